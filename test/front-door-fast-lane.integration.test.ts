import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { TrafficPlan } from '../src/model/traffic-plan.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { group, heldResponses, LOOPBACK, send, startUpstream, waitFor, type TestResponse, type TestUpstream } from './helpers/proxy-fixtures.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from './helpers/test-certificates.js';
import { h2Get, h2Session } from './helpers/tls-clients.js';

const tool = openssl();

/** An upstream that answers its name, revision and what it saw of the forwarding headers. */
function echoUpstream(name: string): Promise<TestUpstream> {
  return startUpstream((req, res) => {
    req.resume();
    req.on('end', () =>
      res.end(JSON.stringify({ name, proto: req.headers['x-forwarded-proto'], forwardedHost: req.headers['x-forwarded-host'], path: req.url })),
    );
  });
}

/** A plan of revisions (each one upstream) on the shared listeners. */
function frontPlan(app: string, revisions: [TestUpstream, number][], frontDoor: TrafficPlan['frontDoor'], version = 1): TrafficPlan {
  const groups = revisions.map(([upstream, revision]) => group(revision, 1, [upstream.endpoint(`${app}-${revision}`)]));
  return { app, version, listen: { host: '', port: 0 }, groups, frontDoor };
}

/** One HTTPS/1.1 request on `agent` (keep-alive), telling which client socket carried it. */
function httpsSend(port: number, agent: HttpsAgent, host: string, path = '/', method = 'GET', body?: string): Promise<TestResponse & { socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: LOOPBACK, port, path, method, headers: { host }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, text: data.toString(), socket: res.socket as Socket });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the fast lane on the shared listeners: HTTPS/1.1 and plain HTTP/1.1 (issue 19)', { skip: 'skip' in tool ? tool.skip : false }, () => {
  let dir: string;
  let site: TestCertificate;
  let web: TestUpstream;
  let apiUp: TestUpstream;
  let plain: TestUpstream;
  let proxy: ProxyServer;
  let lane: { requests: number };
  let httpsPort: number;
  let httpPort: number;

  before(async () => {
    dir = certificateDir();
    site = makeCertificate(dir, 'site', ['example.test', 'www.example.test', '*.api.example.test']);
    mkdirSync(join(dir, 'data', 'certs', 'acme-challenges'), { recursive: true });
    writeFileSync(join(dir, 'data', 'certs', 'acme-challenges', 'tok-1'), 'tok-1.thumbprint');
    [web, apiUp, plain] = await Promise.all([echoUpstream('web'), echoUpstream('api'), echoUpstream('plain')]);
    proxy = new ProxyServer(
      { closeTimeoutMs: 2_000 },
      { http: { host: LOOPBACK, port: 0 }, https: { host: LOOPBACK, port: 0 }, redirectHttp: true, hsts: 'max-age=60', dataDir: join(dir, 'data') },
      () => {},
    );
    lane = (proxy as unknown as { fastLane: { requests: number } }).fastLane;
    const tls = { cert: site.cert, key: site.key };
    await proxy.applyPlan(frontPlan('web', [[web, 1]], { hosts: ['example.test', 'www.example.test'], paths: ['/'], tls }));
    await proxy.applyPlan(frontPlan('api', [[apiUp, 1]], { hosts: ['*.api.example.test', 'example.test'], paths: ['/v1'], tls }));
    await proxy.applyPlan(frontPlan('plain', [[plain, 1]], { hosts: ['plain.test'], paths: ['/'], tls: false }));
    await proxy.listenFrontDoor();
    httpsPort = proxy.frontDoorAddress('https')!.port;
    httpPort = proxy.frontDoorAddress('http')!.port;
  });

  after(async () => {
    await proxy?.close();
    await Promise.all([web, apiUp, plain].map((u) => u?.close()));
    if (dir) removeDir(dir);
  });

  it('routes HTTPS/1.1 requests on one connection by Host and path in the fast lane, with X-Forwarded-Proto https and HSTS', async () => {
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: site.pem, servername: 'example.test' });
    try {
      const before = lane.requests;
      const root = await httpsSend(httpsPort, agent, 'example.test', '/hello');
      const v1 = await httpsSend(httpsPort, agent, 'example.test', '/v1/users?x=1');
      const www = await httpsSend(httpsPort, agent, 'WWW.example.test:443', '/w');
      const wildcard = await httpsSend(httpsPort, agent, 'eu.api.example.test', '/v1/x', 'POST', 'a body');
      assert.equal(lane.requests - before, 4, 'every request went through the fast lane');
      assert.equal(new Set([root.socket, v1.socket, www.socket, wildcard.socket]).size, 1, 'all on one kept connection');
      assert.deepEqual(JSON.parse(root.text), { name: 'web', proto: 'https', forwardedHost: 'example.test', path: '/hello' });
      assert.equal(root.headers['strict-transport-security'], 'max-age=60');
      assert.equal(JSON.parse(v1.text).name, 'api');
      assert.equal(JSON.parse(www.text).name, 'web');
      assert.equal(JSON.parse(wildcard.text).name, 'api');
      assert.equal(v1.headers['strict-transport-security'], 'max-age=60');
    } finally {
      agent.destroy();
    }
  });

  it("keeps HTTP/2 on Node's http2 (never the fast lane)", async () => {
    const before = lane.requests;
    const session = await h2Session(httpsPort, 'example.test', site.pem);
    try {
      const res = await h2Get(session, '/h2');
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.text).proto, 'https');
      assert.equal(res.headers['strict-transport-security'], 'max-age=60');
    } finally {
      session.close();
    }
    assert.equal(lane.requests, before);
  });

  it('hands an unknown host to the strict lane mid-connection: 421 on TLS, 404 plain, counted, never reaching an app', async () => {
    const reached = web.count() + apiUp.count() + plain.count();
    const unknownBefore = proxy.measurements().unknownHost ?? 0;
    const before = lane.requests;
    // Pipelined: the fast lane serves the first, then hands the connection, the second request's bytes included, to Node's server.
    const answers = await rawTls(httpsPort, site.pem, 'GET /first HTTP/1.1\r\nhost: example.test\r\n\r\nGET / HTTP/1.1\r\nhost: other.test\r\n\r\n');
    assert.match(answers, /^HTTP\/1\.1 200 OK\r\n[^]*"name":"web"[^]*HTTP\/1\.1 421 Misdirected Request\r\n/);
    const unknown = await send(httpPort, { headers: { host: 'other.test' } });
    assert.equal(unknown.status, 404);
    assert.equal(lane.requests - before, 1, 'only the known host went through the fast lane');
    assert.equal(web.count() + apiUp.count() + plain.count(), reached + 1);
    assert.equal(proxy.measurements().unknownHost, unknownBefore + 2);
  });

  it('serves plain hosts in the fast lane and leaves ACME challenges and the 308 redirect to the strict lane, on one connection', async () => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = lane.requests;
      const served = await send(httpPort, { headers: { host: 'plain.test' }, path: '/p', agent });
      assert.deepEqual(JSON.parse(served.text), { name: 'plain', proto: 'http', forwardedHost: 'plain.test', path: '/p' });
      assert.equal(served.headers['strict-transport-security'], undefined);
      assert.equal(lane.requests - before, 1);
      const challenge = await send(httpPort, { path: '/.well-known/acme-challenge/tok-1', headers: { host: 'plain.test' }, agent });
      assert.equal(challenge.status, 200);
      assert.equal(challenge.text, 'tok-1.thumbprint');
      const redirect = await send(httpPort, { path: '/a?b=1', headers: { host: 'example.test' }, method: 'POST', body: 'x' });
      assert.equal(redirect.status, 308);
      assert.equal(redirect.headers.location, `https://example.test:${httpsPort}/a?b=1`);
      const tlsChallenge = await send(httpPort, { path: '/.well-known/acme-challenge/tok-1', headers: { host: 'example.test' } });
      assert.equal(tlsChallenge.status, 200, 'a challenge for a TLS host is answered, never redirected');
      assert.equal(lane.requests - before, 1, "challenges and redirects were the strict lane's");
    } finally {
      agent.destroy();
    }
  });

  it('keeps 0 failed HTTPS/1.1 and plain requests under load while a new revision replaces the old one', async () => {
    const [next, nextPlain] = await Promise.all([echoUpstream('web-2'), echoUpstream('plain-2')]);
    const tls = { cert: site.cert, key: site.key };
    const before = lane.requests;
    let sent = 0;
    const failures: string[] = [];
    const names = new Map<string, number>();
    let isRunning = true;
    const client = async (kind: 'https' | 'http'): Promise<void> => {
      const agent =
        kind === 'https'
          ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: site.pem, servername: 'example.test' })
          : new HttpAgent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let n = 0; isRunning; n++) {
          sent++;
          try {
            const method = n % 3 === 0 ? 'POST' : 'GET';
            const body = method === 'POST' ? `order ${n}` : undefined;
            const res =
              kind === 'https'
                ? await httpsSend(httpsPort, agent as HttpsAgent, 'example.test', `/n${n}`, method, body)
                : await send(httpPort, { headers: { host: 'plain.test' }, path: `/n${n}`, method, body, agent });
            if (res.status !== 200) failures.push(`${kind} ${res.status} ${res.text}`);
            else {
              const name = JSON.parse(res.text).name as string;
              names.set(name, (names.get(name) ?? 0) + 1);
            }
          } catch (error) {
            failures.push(`${kind} ${(error as Error).message}`);
          }
        }
      } finally {
        agent.destroy();
      }
    };
    const clients = [client('https'), client('https'), client('https'), client('http'), client('http')];
    try {
      await delay(500);
      // Both revisions serve, then only the new one: the old endpoint drains out of the plan.
      await proxy.applyPlan(
        frontPlan(
          'web',
          [
            [web, 1],
            [next, 2],
          ],
          { hosts: ['example.test', 'www.example.test'], paths: ['/'], tls },
          2,
        ),
      );
      await proxy.applyPlan(
        frontPlan(
          'plain',
          [
            [plain, 1],
            [nextPlain, 2],
          ],
          { hosts: ['plain.test'], paths: ['/'], tls: false },
          2,
        ),
      );
      await delay(800);
      await proxy.applyPlan(frontPlan('web', [[next, 2]], { hosts: ['example.test', 'www.example.test'], paths: ['/'], tls }, 3));
      await proxy.applyPlan(frontPlan('plain', [[nextPlain, 2]], { hosts: ['plain.test'], paths: ['/'], tls: false }, 3));
      await delay(800);
    } finally {
      isRunning = false;
      await Promise.all(clients);
    }
    try {
      assert.ok(sent >= 50, `too few requests were sent: ${sent}`);
      assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${sent} requests failed`);
      for (const name of ['web', 'web-2', 'plain', 'plain-2']) assert.ok((names.get(name) ?? 0) > 0, `no answer from ${name}: ${JSON.stringify([...names])}`);
      assert.equal(lane.requests - before, sent, 'every request went through the fast lane');
    } finally {
      await Promise.all([next.close(), nextPlain.close()]);
    }
  });
});

/** Writes `bytes` on a new HTTPS/1.1 connection and resolves with everything read until the proxy closes it. */
function rawTls(port: number, ca: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: LOOPBACK, port, servername: 'example.test', ca, ALPNProtocols: ['http/1.1'] }, () => socket.write(bytes));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no close after: ${JSON.stringify(text)}`)));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('closing a shared listener with fast-lane connections (issue 19)', { skip: 'skip' in tool ? tool.skip : false }, () => {
  for (const isGentle of [false, true]) {
    it(`${isGentle ? 'a gentle close leaves idle connections to their clients' : 'a close ends idle connections at once'}; a request in flight gets its answer with Connection: close`, async () => {
      const dir = certificateDir();
      const site = makeCertificate(dir, 'site', ['example.test']);
      const held = heldResponses();
      const upstream = await startUpstream(held.handler);
      const proxy = new ProxyServer(
        { closeTimeoutMs: 3_000 },
        { http: null, https: { host: LOOPBACK, port: 0 }, redirectHttp: true, hsts: null, dataDir: null },
        () => {},
      );
      const idle = new TlsClient();
      const busy = new TlsClient();
      try {
        await proxy.applyPlan(frontPlan('web', [[upstream, 1]], { hosts: ['example.test'], paths: ['/'], tls: { cert: site.cert, key: site.key } }));
        await proxy.listenFrontDoor();
        const port = proxy.frontDoorAddress('https')!.port;
        const lane = (proxy as unknown as { fastLane: { requests: number } }).fastLane;
        await Promise.all([idle.open(port, site.pem), busy.open(port, site.pem)]);
        idle.write('GET /idle HTTP/1.1\r\nhost: example.test\r\n\r\n');
        await waitFor(() => held.held.length === 1, "the idle connection's request to reach the app");
        held.held.shift()!.end('first');
        await waitFor(() => idle.text.includes('first'), "the idle connection's answer");
        assert.match(idle.text, /connection: keep-alive/);
        busy.write('GET /busy HTTP/1.1\r\nhost: example.test\r\n\r\n');
        await waitFor(() => held.held.length === 1, "the busy connection's request to reach the app");
        assert.equal(lane.requests, 2, 'both went through the fast lane');
        const closing = proxy.close({ isGentle });
        await delay(300);
        assert.equal(idle.isClosed, !isGentle, isGentle ? 'a gentle close leaves the idle connection open' : 'the idle connection was closed');
        assert.equal(busy.isClosed, false, 'the request in flight is not cut');
        held.release();
        await waitFor(() => busy.isClosed, 'the busy connection to close after its answer');
        assert.match(busy.text, /HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\nreleased$/);
        if (isGentle) {
          idle.destroy();
        }
        await closing;
      } finally {
        idle.destroy();
        busy.destroy();
        await proxy.close();
        await upstream.close();
        removeDir(dir);
      }
    });
  }
});

describe('a trusted proxy in front of the shared listeners (issue 19)', () => {
  it('is served by the strict lane, which keeps its forwarding headers', async () => {
    const upstream = await echoUpstream('web');
    const proxy = new ProxyServer(
      { trustedProxies: [LOOPBACK] },
      { http: { host: LOOPBACK, port: 0 }, https: null, redirectHttp: true, hsts: null, dataDir: null },
      () => {},
    );
    try {
      await proxy.applyPlan(frontPlan('web', [[upstream, 1]], { hosts: ['plain.test'], paths: ['/'], tls: false }));
      await proxy.listenFrontDoor();
      const lane = (proxy as unknown as { fastLane: { requests: number } }).fastLane;
      const res = await send(proxy.frontDoorAddress('http')!.port, { headers: { host: 'plain.test', 'x-forwarded-proto': 'https' } });
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.text).proto, 'https', "the trusted peer's X-Forwarded-Proto is kept");
      assert.equal(lane.requests, 0, 'not through the fast lane');
      assert.equal(upstream.count(), 1);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});

/** A raw HTTPS/1.1 client connection that gathers what it reads. */
class TlsClient {
  text = '';
  isClosed = false;
  private socket: TLSSocket | undefined;

  open(port: number, ca: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: LOOPBACK, port, servername: 'example.test', ca, ALPNProtocols: ['http/1.1'] }, () => resolve());
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (this.text += chunk));
      socket.on('error', reject);
      socket.on('close', () => (this.isClosed = true));
      this.socket = socket;
    });
  }

  write(bytes: string): void {
    this.socket!.write(bytes);
  }

  destroy(): void {
    this.socket?.destroy();
  }
}
