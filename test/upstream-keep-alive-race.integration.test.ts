import assert from 'node:assert/strict';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { constants, type ClientHttp2Session } from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { METER_COUNTERS } from '../src/model/measurements.js';
import type { ProxyOptions } from '../src/proxy/proxy-options.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { group, LOOPBACK, send, startProxy, startUpstream, type TestUpstream } from './helpers/proxy-fixtures.js';
import { certificateDir, makeCertificate, openssl, removeDir } from './helpers/test-certificates.js';
import { h2Session } from './helpers/tls-clients.js';

/** The app closes a keep-alive connection after this long without a request, and says nothing of it. */
const APP_IDLE_MS = 1_000;
/** It stops reading an idle connection this long before closing it (a busy app whose close is queued behind other work). */
const CLOSING_WINDOW_MS = 120;
/**
 * One client at a time, so that each request finds the connection the last one used, idle for
 * the client's pause (with more, the proxy's most recently used connection is always warm).
 */
const CLIENTS = 1;
const LOAD_MS = 8_000;
const HOST = 'race.example.test';

interface RacyApp {
  upstream: TestUpstream;
  /** Connections the app closed for idleness. */
  idleCloses: number;
  /** Requests that arrived on a connection which had already served one. */
  reusedRequests: number;
  /** POSTs the app handled: each at most once per client request (never applied twice). */
  posts: number;
}

/**
 * An app like many (Go, Python, Ruby servers) that closes idle keep-alive connections after 1 s
 * without announcing `Keep-Alive: timeout=`, so the proxy keeps them for its own default. A
 * request the proxy writes on one just as the app closes it is never read by the app: the
 * RFC 9112 §9.3.1 race, which the closing window makes frequent instead of rare.
 */
async function startRacyApp(): Promise<RacyApp> {
  const app: RacyApp = { upstream: undefined as never, idleCloses: 0, reusedRequests: 0, posts: 0 };
  const served = new WeakMap<Socket, number>();
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  const armIdleClose = (socket: Socket): void => {
    clearTimeout(timers.get(socket));
    const timer = setTimeout(() => {
      // Reading stops at the kernel (Node's HTTP parser reads the handle itself, so the stream's
      // pause() would not do): a request landing now stays unread, and the close resets it.
      (socket as unknown as { _handle: { readStop(): void } | null })._handle?.readStop();
      timers.set(
        socket,
        setTimeout(() => {
          app.idleCloses++;
          socket.destroy();
        }, CLOSING_WINDOW_MS),
      );
    }, APP_IDLE_MS - CLOSING_WINDOW_MS);
    timers.set(socket, timer);
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    clearTimeout(timers.get(socket));
    const count = (served.get(socket) ?? 0) + 1;
    served.set(socket, count);
    if (count > 1) app.reusedRequests++;
    if (req.method === 'POST') app.posts++;
    req.resume();
    req.on('end', () => res.end(`answered ${req.method}`));
    res.on('finish', () => armIdleClose(socket));
  };
  const configure = (server: Server): void => {
    // No Keep-Alive header and no idle timer of Node's own: the app's timer above is the only one.
    server.keepAliveTimeout = 0;
    server.on('connection', (socket: Socket) => armIdleClose(socket));
  };
  app.upstream = await startUpstream(handler, configure);
  return app;
}

/** Failed tries at the app as the proxy counted them: the race really fired. */
function upstreamErrors(proxy: ProxyServer): number {
  return proxy.measurements().endpoints.reduce((sum, endpoint) => sum + (endpoint.counts[METER_COUNTERS.indexOf('upstreamErrors')] ?? 0), 0);
}

/** Each client sends a POST, pauses until before or into the app's closing window, and again, until the deadline. */
async function closedLoop(send: (n: number) => Promise<string | undefined>): Promise<{ sent: number; failures: string[] }> {
  const failures: string[] = [];
  let sent = 0;
  const deadline = performance.now() + LOAD_MS;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; performance.now() < deadline; n++) {
        sent++;
        const failure = await send(client * 1_000 + n).catch((error: Error) => `${error.message}`);
        if (failure !== undefined) failures.push(failure);
        // Turn about: a pause the connection survives (it is reused), then one that lands in the closing window.
        await delay(n % 2 === 0 ? APP_IDLE_MS - 3 * CLOSING_WINDOW_MS : APP_IDLE_MS - CLOSING_WINDOW_MS / 2);
      }
    }),
  );
  return { sent, failures };
}

function assertRaceHandled(app: RacyApp, proxy: ProxyServer, result: { sent: number; failures: string[] }): void {
  const seen = `${result.sent} sent, app ${JSON.stringify({ ...app, upstream: undefined })}, ${upstreamErrors(proxy)} failed tries`;
  // Preconditions: the load ran, the app closed idle connections, connections were reused, and
  // the race fired: a try failed at the app (only a try on a reused connection is retried for a
  // POST), while no client saw it.
  assert.ok(result.sent >= 6, `too few requests were sent: ${seen}`);
  assert.ok(app.idleCloses >= 2, `the app closed too few idle connections: ${seen}`);
  assert.ok(app.reusedRequests >= 1, `too few requests reused an upstream connection: ${seen}`);
  assert.ok(upstreamErrors(proxy) >= 1, `no request met a connection the app was closing: ${seen}`);
  assert.deepEqual(result.failures.slice(0, 5), [], `${result.failures.length} of ${result.sent} requests failed`);
  // Retried only when the app never read it: each POST was applied exactly once.
  assert.equal(app.posts, result.sent);
}

describe('a POST on an upstream connection the app closes for idleness is retried, never failed (issue 19)', () => {
  for (const [lane, options] of [
    ['the fast lane (plain HTTP/1.1)', {}],
    ['the strict lane (undici)', { upstreamMaxConnections: 64 }],
  ] as [string, Partial<ProxyOptions>][]) {
    it(`0 failed POSTs through ${lane}`, async () => {
      const app = await startRacyApp();
      const proxy = await startProxy(
        { app: 'web', version: 1, listen: { host: LOOPBACK, port: 0 }, groups: [group(1, 1, [app.upstream.endpoint('web-1')])] },
        options,
      );
      try {
        const result = await closedLoop(async (n) => {
          const res = await send(proxy.port, { method: 'POST', path: `/?n=${n}`, body: `order ${n}`, agent: proxy.agent });
          return res.status === 200 && res.text === 'answered POST' ? undefined : `${res.status} ${res.text}`;
        });
        assertRaceHandled(app, proxy.proxy, result);
      } finally {
        await proxy.close();
        await app.upstream.close();
      }
    });
  }

  const tool = openssl();
  it('0 failed POSTs over HTTPS/1.1 and HTTP/2 on the front door', { skip: 'skip' in tool ? tool.skip : false }, async () => {
    const dir = certificateDir();
    const cert = makeCertificate(dir, 'race', [HOST]);
    const app = await startRacyApp();
    const proxy = new ProxyServer(
      { closeTimeoutMs: 1_000 },
      { http: null, https: { host: LOOPBACK, port: 0 }, redirectHttp: true, hsts: null, dataDir: null },
      () => {},
    );
    const agent = new HttpsAgent({ keepAlive: true, ca: cert.pem, servername: HOST });
    let session: ClientHttp2Session | undefined;
    try {
      await proxy.applyPlan({
        app: 'web',
        version: 1,
        listen: { host: '', port: 0 },
        groups: [group(1, 1, [app.upstream.endpoint('web-1')])],
        frontDoor: { hosts: [HOST], paths: ['/'], tls: { cert: cert.cert, key: cert.key } },
      });
      await proxy.listenFrontDoor();
      const port = proxy.frontDoorAddress('https')!.port;
      session = await h2Session(port, HOST, cert.pem);
      const h2 = session;
      // HTTPS/1.1 goes through the fast lane and HTTP/2 through undici: two upstream pools, so
      // each protocol has its own client (taking turns, neither would find its connection warm).
      const lane = (proxy as unknown as { fastLane: { requests: number } }).fastLane;
      const [h1Result, h2Result] = await Promise.all([closedLoop((n) => httpsPost(port, agent, n)), closedLoop((n) => h2Post(h2, n))]);
      assert.ok(lane.requests >= h1Result.sent, `HTTPS/1.1 requests went through the fast lane: ${lane.requests} of ${h1Result.sent}`);
      assertRaceHandled(app, proxy, { sent: h1Result.sent + h2Result.sent, failures: [...h1Result.failures, ...h2Result.failures] });
    } finally {
      session?.close();
      agent.destroy();
      await proxy.close();
      await app.upstream.close();
      removeDir(dir);
    }
  });
});

function httpsPost(port: number, agent: HttpsAgent, n: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: LOOPBACK, port, method: 'POST', path: `/?n=${n}`, headers: { host: HOST }, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && text === 'answered POST' ? undefined : `h1 ${res.statusCode} ${text}`));
    });
    req.on('error', reject);
    req.end(`order ${n}`);
  });
}

function h2Post(session: ClientHttp2Session, n: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      [constants.HTTP2_HEADER_PATH]: `/?n=${n}`,
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      'content-length': String(`order ${n}`.length),
    });
    let status = 0;
    let text = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve(status === 200 && text === 'answered POST' ? undefined : `h2 ${status} ${text}`));
    stream.on('error', reject);
    stream.end(`order ${n}`);
  });
}
