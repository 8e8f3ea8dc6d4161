import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { MAX_EARLY_RESETS_PER_SECOND } from '../../src/proxy/front-door/h2-session-guards.js';
import type { ProxyServer } from '../../src/proxy/proxy-server.js';
import { LOOPBACK, startUpstream, type TestUpstream } from '../helpers/proxy-fixtures.js';
import { startTlsFrontDoor } from '../helpers/tls-front-door.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from '../helpers/test-certificates.js';
import { h2Get, h2Session, httpsGet } from '../helpers/tls-clients.js';
import { Flag, frame, FrameType, headerBlock, rawH2, requestFields, type H2Outcome } from './h2-frames.js';

const tool = openssl();
const HOST = 'hostile.test';

/** How the server answered stream 1 of a raw connection, in words: `status 400`, `reset 1`, `goaway 6`, `closed` or `no answer`. */
function answerOf(outcome: H2Outcome, streamId = 1): string {
  const status = outcome.statuses.get(streamId);
  if (status !== undefined) return `status ${status}`;
  const reset = outcome.resets.get(streamId);
  if (reset !== undefined) return `reset ${reset}`;
  if (outcome.goAwayCode !== undefined) return `goaway ${outcome.goAwayCode}`;
  return outcome.isClosed ? 'closed' : 'no answer';
}

/** RST_STREAM and GOAWAY codes (RFC 9113 §7). */
const PROTOCOL_ERROR = 1;
const ENHANCE_YOUR_CALM = 11;

function headers(streamId: number, fields: [string, string][], flags = Flag.END_HEADERS | Flag.END_STREAM): Buffer {
  return frame(FrameType.HEADERS, flags, streamId, headerBlock(fields));
}

describe('hostile TLS and HTTP/2 input on the front door (issue 19)', { skip: 'skip' in tool ? tool.skip : false }, () => {
  let dir: string;
  let cert: TestCertificate;
  let upstream: TestUpstream;
  let proxy: ProxyServer;
  let port: number;
  const seen: string[] = [];
  /** Request bodies the app received, by path. */
  const bodies = new Map<string, string>();

  before(async () => {
    dir = certificateDir();
    cert = makeCertificate(dir, 'hostile', [HOST]);
    upstream = await startUpstream((req, res) => {
      seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        bodies.set(req.url ?? '', Buffer.concat(chunks).toString());
        res.end('ok');
      });
    });
    ({ proxy, port } = await startTlsFrontDoor(HOST, cert, upstream));
  });

  after(async () => {
    await proxy?.close();
    await upstream?.close();
    if (dir) removeDir(dir);
  });

  /** Normal traffic still works, and nothing smuggled reached the upstream. */
  async function assertHealthy(): Promise<void> {
    const session = await h2Session(port, HOST, cert.pem);
    try {
      const answer = await h2Get(session, '/normal');
      assert.equal(answer.status, 200);
    } finally {
      session.close();
    }
    assert.equal((await httpsGet(port, HOST, cert.pem, { path: '/normal-h1' })).status, 200);
    assert.ok(
      seen.some((line) => line.startsWith('GET /normal ')),
      'precondition: the normal request reached the app',
    );
    // Nothing smuggled reached the app, nor a hop-by-hop field a client sent (the proxy's own keep-alive to the app aside).
    const hopByHop = /"(transfer-encoding|upgrade|te|keep-alive|proxy-connection|http2-settings)"|"connection":"(?!keep-alive")/;
    assert.deepEqual(
      seen.filter((line) => line.includes('smuggled') || hopByHop.test(line)),
      [],
    );
  }

  it('drops handshake garbage, refuses no SNI, unknown SNI and a foreign ALPN protocol, and keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const socket = netConnect({ host: LOOPBACK, port }, () => socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01\xff\xff garbage')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
      socket.resume();
    });
    // The client checks nothing of the server's certificate: a refusal can only be the proxy's (a TLS alert, no certificate shown).
    const handshake = (options: { servername?: string; ALPNProtocols?: string[] }): Promise<string> =>
      new Promise((resolve) => {
        const socket = tlsConnect({ host: LOOPBACK, port, rejectUnauthorized: false, ...options }, () => {
          resolve(`connected ${String(socket.alpnProtocol)}`);
          socket.destroy();
        });
        socket.on('error', (error) => resolve(`refused ${error.message}`));
      });
    assert.match(await handshake({ servername: HOST }), /^connected/, 'precondition: a handshake for the served name completes');
    assert.match(await handshake({}), /^refused/);
    assert.match(await handshake({ servername: 'unknown.test' }), /^refused/);
    // A client offering only protocols the proxy does not speak gets no application protocol.
    const alpn = await handshake({ servername: HOST, ALPNProtocols: ['spdy/3.1'] });
    assert.match(alpn, /^refused|^connected false/);
    await assertHealthy();
  });

  it('survives a rapid reset flood (CVE-2023-44487): the connection is cut, few requests reach the app', async () => {
    const before = upstream.count();
    const frames: Buffer[] = [];
    for (let id = 1; id < 2 * 2_000; id += 2) {
      frames.push(headers(id, requestFields(HOST, `/reset-${id}`)));
      frames.push(frame(FrameType.RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8])));
    }
    const streamsBefore = proxy.frontDoorH2Streams()!;
    const outcome = await rawH2(port, HOST, cert.pem, Buffer.concat(frames), 6_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const reached = upstream.count() - before;
    const streamsAfter = proxy.frontDoorH2Streams()!;
    const started = streamsAfter.raw + streamsAfter.compat - streamsBefore.raw - streamsBefore.compat;
    // The proxy's guard ends the session with GOAWAY (ENHANCE_YOUR_CALM) once the resets pass its
    // limit, long before nghttp2's own limit (about 1,000 streams) would.
    assert.equal(outcome.goAwayCode, ENHANCE_YOUR_CALM, `the flood was not cut by the guard: ${answerOf(outcome, 0)}`);
    assert.ok(started > MAX_EARLY_RESETS_PER_SECOND, `precondition: the flood reached the proxy (${started} streams started)`);
    assert.ok(started < MAX_EARLY_RESETS_PER_SECOND + 100, `${started} of 2000 reset streams were started before the session was cut`);
    assert.ok(reached < 50, `${reached} of 2000 reset requests reached the app`);
    await assertHealthy();
  });

  it('ends CONTINUATION, SETTINGS and PING floods', async () => {
    const junk = headerBlock([['x-junk', 'a'.repeat(1_000)]]);
    const continuation = [headers(1, requestFields(HOST, '/smuggled-continuation'), 0)];
    for (let n = 0; n < 2_000; n++) continuation.push(frame(FrameType.CONTINUATION, 0, 1, junk));
    const settings = Array.from({ length: 20_000 }, () => frame(FrameType.SETTINGS, 0, 0, Buffer.from([0, 3, 0, 0, 0, 100])));
    const pings = Array.from({ length: 20_000 }, (_, n) => frame(FrameType.PING, 0, 0, Buffer.alloc(8, n % 256)));
    for (const [name, payload] of [
      ['CONTINUATION', Buffer.concat(continuation)],
      ['SETTINGS', Buffer.concat(settings)],
      ['PING', Buffer.concat(pings)],
    ] as const) {
      const outcome = await rawH2(port, HOST, cert.pem, payload, 3_000);
      assert.ok(outcome.goAwayCode !== undefined || outcome.isClosed, `a ${name} flood must end the connection`);
    }
    await assertHealthy();
  });

  it('answers each malformed or smuggling HTTP/2 request as expected, and none reaches the app', async () => {
    const get = (path: string, extra: [string, string][] = []): Buffer => headers(1, [...requestFields(HOST, path), ...extra]);
    const post = (path: string, extra: [string, string][], body: string): Buffer =>
      Buffer.concat([
        headers(1, [...requestFields(HOST, path, 'POST'), ...extra], Flag.END_HEADERS),
        frame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from(body)),
      ]);
    const fields = (list: [string, string][]): Buffer => headers(1, list);
    const cases: [string, Buffer, string][] = [
      // Limits: nghttp2 resets a header list over its count; the proxy answers sizes as on HTTP/1.1.
      [
        '201 header fields',
        get(
          '/smuggled-many',
          Array.from({ length: 201 }, (_, n): [string, string] => [`x-f${n}`, 'v']),
        ),
        `reset ${ENHANCE_YOUR_CALM}`,
      ],
      // Over the 16 KiB of header fields the proxy takes (still inside one 16 KiB frame), and a frame over the frame size.
      ['a 16.3 KB header field', get('/smuggled-big', [['x-big', 'b'.repeat(16_300)]]), 'status 431'],
      ['a header frame over the frame size', get('/smuggled-huge', [['x-big', 'b'.repeat(17_000)]]), 'goaway 6'],
      ['a 9 KB :path', get(`/smuggled-${'p'.repeat(9_000)}`), 'status 414'],
      // Malformed requests (RFC 9113 §8.1.1): stream error PROTOCOL_ERROR from nghttp2.
      ['unknown pseudo-header', get('/smuggled-pseudo', [[':foo', 'bar']]), `reset ${PROTOCOL_ERROR}`],
      [
        'pseudo-header after a regular one',
        fields([
          [':method', 'GET'],
          ['x-a', 'b'],
          [':scheme', 'https'],
          [':authority', HOST],
          [':path', '/smuggled-order'],
        ]),
        `reset ${PROTOCOL_ERROR}`,
      ],
      [
        'no :path',
        fields([
          [':method', 'GET'],
          [':scheme', 'https'],
          [':authority', HOST],
        ]),
        `reset ${PROTOCOL_ERROR}`,
      ],
      ['empty :path', get(''), `reset ${PROTOCOL_ERROR}`],
      ['two :path', get('/smuggled-one', [[':path', '/smuggled-two']]), `reset ${PROTOCOL_ERROR}`],
      ['absolute-form :path', get('https://hostile.test/smuggled-absolute'), `reset ${PROTOCOL_ERROR}`],
      ['upper-case header name', get('/smuggled-case', [['X-Upper', 'v']]), `reset ${PROTOCOL_ERROR}`],
      // Connection-specific fields (RFC 9113 §8.2.2).
      ['connection', get('/smuggled-conn', [['connection', 'keep-alive']]), `reset ${PROTOCOL_ERROR}`],
      ['keep-alive', get('/smuggled-keep-alive', [['keep-alive', 'timeout=5']]), `reset ${PROTOCOL_ERROR}`],
      ['upgrade', get('/smuggled-upgrade', [['upgrade', 'websocket']]), `reset ${PROTOCOL_ERROR}`],
      ['proxy-connection', get('/smuggled-proxy-conn', [['proxy-connection', 'keep-alive']]), `reset ${PROTOCOL_ERROR}`],
      ['te other than trailers', get('/smuggled-te-gzip', [['te', 'gzip']]), `reset ${PROTOCOL_ERROR}`],
      // h2→h1 smuggling: framing the HTTP/1.1 request upstream must never take from the client.
      [
        'transfer-encoding on h2',
        post('/smuggled-te', [['transfer-encoding', 'chunked']], '0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'),
        `reset ${PROTOCOL_ERROR}`,
      ],
      ['content-length above the DATA', post('/smuggled-cl-short', [['content-length', '100']], 'short'), `reset ${PROTOCOL_ERROR}`],
      [
        'content-length below the DATA',
        post('/smuggled-cl-long', [['content-length', '2']], 'hello GET /smuggled HTTP/1.1\r\n\r\n'),
        `reset ${PROTOCOL_ERROR}`,
      ],
      ['host and :authority disagree', get('/smuggled-host', [['host', 'other.test']]), 'status 400'],
      // Tunnels: no CONNECT, plain or extended (RFC 8441, not enabled), ever opens one.
      [
        'CONNECT',
        fields([
          [':method', 'CONNECT'],
          [':authority', 'smuggled.example:443'],
        ]),
        'status 400',
      ],
      [
        'extended CONNECT',
        fields([
          [':method', 'CONNECT'],
          [':protocol', 'websocket'],
          [':scheme', 'https'],
          [':authority', HOST],
          [':path', '/smuggled-tunnel'],
        ]),
        `reset ${PROTOCOL_ERROR}`,
      ],
      ['OPTIONS *', headers(1, requestFields(HOST, '*', 'OPTIONS')), 'status 400'],
    ];
    const answers: string[] = [];
    for (const [name, payload] of cases) answers.push(`${name}: ${answerOf(await rawH2(port, HOST, cert.pem, payload, 1_000))}`);
    assert.deepEqual(
      answers,
      cases.map(([name, , expected]) => `${name}: ${expected}`),
    );
    // A CR/LF in a field value: nghttp2 drops the field (it is never forwarded), the request goes on without it.
    const crlf = await rawH2(port, HOST, cert.pem, get('/crlf-dropped', [['x-crlf', 'b\r\nGET /smuggled HTTP/1.1']]), 1_000);
    assert.equal(answerOf(crlf), 'status 200');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(
      seen.some((line) => line.startsWith('GET /crlf-dropped ')),
      'precondition: the request itself reached the app',
    );
    assert.ok(!seen.some((line) => line.includes('x-crlf')), 'a field with CR/LF reached the app');
    const reached = seen.filter((line) => line.includes('smuggled'));
    assert.deepEqual(reached, [], `requests that reached the app: ${reached.join('\n')}`);
    await assertHealthy();
  });

  it('forwards an HTTP/2 body sent without content-length whole (DATA frames frame it), as HTTP/1.1 framing the app can read', async () => {
    const payload = Buffer.concat([
      headers(1, requestFields(HOST, '/body-without-length', 'POST'), Flag.END_HEADERS),
      frame(FrameType.DATA, 0, 1, Buffer.from('first part, ')),
      frame(FrameType.DATA, Flag.END_STREAM, 1, Buffer.from('second part')),
    ]);
    assert.equal(answerOf(await rawH2(port, HOST, cert.pem, payload, 1_000)), 'status 200');
    assert.deepEqual(bodies.get('/body-without-length'), 'first part, second part');
  });
});
