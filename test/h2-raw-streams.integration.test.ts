import assert from 'node:assert/strict';
import { constants, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import type { TrafficPlan } from '../src/model/traffic-plan.js';
import { group, LOOPBACK, startUpstream, waitFor, type TestUpstream } from './helpers/proxy-fixtures.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from './helpers/test-certificates.js';
import { h2Get, h2Session, type TlsResponse } from './helpers/tls-clients.js';

const tool = openssl();
const HOST = 'raw.example.test';

/** An upstream whose answer depends on the path: the response shapes the HTTP/2 stream lane turns into HTTP/2. */
function shapedUpstream(name: string): Promise<TestUpstream> {
  return startUpstream((req, res) => {
    req.resume();
    const path = req.url ?? '/';
    if (path === '/chunked') {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.write('hello ');
      setTimeout(() => res.end('chunked world'), 5);
      return;
    }
    if (path === '/empty') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (path === '/reset') {
      req.socket.destroy();
      return;
    }
    if (path === '/slow') {
      setTimeout(() => res.end('late'), 1_000);
      return;
    }
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write(`data: ${name}\n\n`), 20);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (path === '/large') {
      res.end(Buffer.alloc(256 * 1024, 'x'));
      return;
    }
    const body = JSON.stringify({ name, proto: req.headers['x-forwarded-proto'], host: req.headers.host, path, cookie: req.headers.cookie });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'keep-alive' });
    res.end(body);
  });
}

function plan(version: number, upstreams: { up: TestUpstream; id: string }[], revision = version): TrafficPlan {
  return {
    app: 'web',
    version,
    listen: { host: '', port: 0 },
    groups: [
      group(
        revision,
        1,
        upstreams.map(({ up, id }) => up.endpoint(id)),
      ),
    ],
    frontDoor: { hosts: [HOST], paths: ['/'], tls: { cert: cert.cert, key: cert.key } },
    longLived: { drain: 'close', timeoutMs: 60_000 },
  };
}

function h2Head(session: ClientHttp2Session, path: string): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':method': 'HEAD' });
    stream.on('response', (headers) => resolve({ status: Number(headers[':status']), headers, text: '' }));
    stream.on('error', reject);
    stream.resume();
  });
}

let cert: TestCertificate;

describe('HTTP/2 on the front door from raw streams, not the compatibility API (issue 19, speed)', { skip: 'skip' in tool ? tool.skip : false }, () => {
  let dir: string;
  let a: TestUpstream;
  let b: TestUpstream;
  let proxy: ProxyServer;
  let port: number;
  let session: ClientHttp2Session;

  before(async () => {
    dir = certificateDir();
    cert = makeCertificate(dir, 'raw', [HOST]);
    [a, b] = await Promise.all([shapedUpstream('a'), shapedUpstream('b')]);
    proxy = new ProxyServer(
      { closeTimeoutMs: 2_000, upstreamHeadersTimeoutMs: 300 },
      { http: null, https: { host: LOOPBACK, port: 0 }, redirectHttp: false, hsts: 'max-age=60', dataDir: null },
      () => undefined,
    );
    await proxy.applyPlan(plan(1, [{ up: a, id: 'web-a' }]));
    await proxy.listenFrontDoor();
    port = proxy.frontDoorAddress('https')!.port;
    session = await h2Session(port, HOST, [cert.pem]);
  });

  after(async () => {
    session?.close();
    await proxy?.close();
    await Promise.all([a, b].map((u) => u?.close()));
    if (dir) removeDir(dir);
  });

  it('serves GET and HEAD without compatibility objects: headers, HSTS, bodies by length and chunked, 204', async () => {
    const before = proxy.frontDoorH2Streams()!;
    const json = await h2Get(session, '/hello?x=1', { cookie: 'c=1' });
    assert.equal(json.status, 200);
    assert.deepEqual(JSON.parse(json.text), { name: 'a', proto: 'https', host: `${HOST}:${port}`, path: '/hello?x=1', cookie: 'c=1' });
    assert.equal(json.headers['strict-transport-security'], 'max-age=60');
    assert.equal(json.headers['content-type'], 'application/json');
    assert.equal(json.headers.connection, undefined);
    const chunked = await h2Get(session, '/chunked');
    assert.equal(chunked.text, 'hello chunked world');
    assert.deepEqual(chunked.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(chunked.headers['transfer-encoding'], undefined);
    const large = await h2Get(session, '/large');
    assert.equal(large.text.length, 256 * 1024);
    assert.equal((await h2Get(session, '/empty')).status, 204);
    const head = await h2Head(session, '/hello');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'application/json');
    const after = proxy.frontDoorH2Streams()!;
    // Precondition: the requests reached the upstream; then none went through the compatibility API.
    assert.ok(a.count() >= 5, `the upstream saw ${a.count()} requests`);
    assert.equal(after.raw - before.raw, 5);
    assert.equal(after.compat, before.compat);
  });

  it('leaves a request with a body, and a host no app serves, to the compatibility API with the same answers', async () => {
    const before = proxy.frontDoorH2Streams()!;
    const unknownBefore = proxy.measurements().unknownHost ?? 0;
    const post = await h2Get(session, '/posted', {}, 'a body');
    assert.equal(post.status, 200);
    assert.equal(JSON.parse(post.text).path, '/posted');
    const misdirected = await h2Get(session, '/', { ':authority': 'other.test' });
    assert.equal(misdirected.status, 421);
    assert.equal(proxy.measurements().unknownHost, unknownBefore + 1);
    const after = proxy.frontDoorH2Streams()!;
    assert.equal(after.compat - before.compat, 2);
    assert.equal(after.raw, before.raw);
  });

  it('answers 502 when the upstream resets, 504 when it is too slow, and counts nothing in flight afterwards', async () => {
    const reset = await h2Get(session, '/reset');
    assert.equal(reset.status, 502);
    assert.match(reset.text, /upstream failed/);
    const slow = await h2Get(session, '/slow');
    assert.equal(slow.status, 504);
    // A client that cancels its stream mid-way: the try is abandoned, nothing stays in flight.
    const stream = session.request({ ':path': '/slow' });
    await waitFor(() => (proxy.inflight()['web-a'] ?? 0) === 1, 'the cancelled request in flight');
    stream.close(constants.NGHTTP2_CANCEL);
    await waitFor(() => Object.keys(proxy.inflight()).length === 0, 'nothing in flight');
    // Reset with an error code (the server stream emits 'error'): the same, and the proxy serves on.
    const failed = session.request({ ':path': '/slow' });
    failed.on('error', () => undefined);
    await waitFor(() => (proxy.inflight()['web-a'] ?? 0) === 1, 'the reset request in flight');
    failed.close(constants.NGHTTP2_INTERNAL_ERROR);
    await waitFor(() => Object.keys(proxy.inflight()).length === 0, 'nothing in flight after the reset');
    assert.equal((await h2Get(session, '/hello')).status, 200);
  });

  it('ends an event stream cleanly when its endpoint leaves the plan', async () => {
    const before = proxy.frontDoorH2Streams()!;
    const stream = session.request({ ':path': '/events' });
    const messages: string[] = [];
    let outcome: string | undefined;
    stream.on('data', (chunk: Buffer) => messages.push(chunk.toString()));
    stream.on('end', () => (outcome ??= 'end'));
    stream.on('error', (error: Error) => (outcome = `error ${error.message}`));
    await waitFor(() => messages.length > 1, 'event stream messages');
    assert.equal(proxy.inflight()['web-a'], 1);
    await proxy.applyPlan(plan(10, [{ up: b, id: 'web-b' }]));
    await waitFor(() => outcome !== undefined, 'the event stream ended');
    assert.equal(outcome, 'end');
    assert.ok(messages.every((message) => message.includes('data: a')));
    assert.equal(proxy.frontDoorH2Streams()!.raw - before.raw, 1);
    await waitFor(() => proxy.inflight()['web-a'] === undefined, 'nothing in flight on a');
    await proxy.applyPlan(plan(11, [{ up: a, id: 'web-a' }]));
  });

  it('keeps 0 failed requests under HTTP/2 load while plans move it to another endpoint and back', async () => {
    const before = proxy.frontDoorH2Streams()!;
    let running = true;
    let ok = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const loops = Array.from({ length: 8 }, async () => {
      while (running) {
        try {
          const response = await h2Get(session, '/load');
          if (response.status === 200) {
            ok++;
            seen.add(JSON.parse(response.text).name);
          } else failures.push(`${response.status} ${response.text}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    });
    await waitFor(() => ok > 50, 'load running');
    await proxy.applyPlan(plan(12, [{ up: b, id: 'web-b' }]));
    await waitFor(() => seen.has('b'), 'answers from b');
    const atB = ok;
    await waitFor(() => ok > atB + 50, 'load on b');
    await proxy.applyPlan(plan(13, [{ up: a, id: 'web-a2' }]));
    const atA = ok;
    await waitFor(() => ok > atA + 50, 'load back on a');
    running = false;
    await Promise.all(loops);
    const after = proxy.frontDoorH2Streams()!;
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failed of ${ok + failures.length}`);
    assert.ok(seen.has('a') && seen.has('b'), `answered by ${[...seen].join(', ')}`);
    assert.equal(after.raw - before.raw, ok);
    assert.equal(after.compat, before.compat);
  });
});
