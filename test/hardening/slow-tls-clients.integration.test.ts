/**
 * Slow clients on the front door's TLS listener: the limits of the `proxy:` block hold over
 * HTTPS/1.1 and HTTP/2 as they do over plain HTTP/1.1. An HTTP/2 connection carries many
 * requests, so a slow body is judged by its own stream's bytes, not by whatever else the
 * connection carries, and a request that never ends is cut at the request timeout.
 */
import assert from 'node:assert/strict';
import { connect as http2Connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { ProxyServer } from '../../src/proxy/proxy-server.js';
import { LOOPBACK, startUpstream, type TestUpstream } from '../helpers/proxy-fixtures.js';
import { startTlsFrontDoor } from '../helpers/tls-front-door.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from '../helpers/test-certificates.js';

const tool = openssl();
const HOST = 'slow.test';
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_500;
const MIN_BODY_BYTES_PER_SECOND = 1_024;
const BODY_RATE_GRACE_MS = 1_000;

/** How a stream ended: its status, or the code it was reset with, and when. */
interface StreamEnd {
  status: number | undefined;
  resetCode: number | undefined;
  afterMs: number;
}

/** Gives up on a stream the proxy never cut (the test then fails on what it got). */
const GIVE_UP_MS = 10_000;

/**
 * Sends a POST announcing a 1 MB body, which `send` writes over time on `session`; resolves
 * when the stream ends, however it ends (at the latest after GIVE_UP_MS, cut by the client).
 */
function slowPost(session: ClientHttp2Session, send: (write: (bytes: number) => boolean) => () => void): Promise<StreamEnd> {
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': '1000000' }, { endStream: false });
    const giveUp = setTimeout(() => stream.close(h2.NGHTTP2_NO_ERROR), GIVE_UP_MS);
    let status: number | undefined;
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('error', () => undefined);
    const stop = send((bytes) => !stream.destroyed && stream.write(Buffer.alloc(bytes, 0x61)));
    stream.resume();
    stream.on('close', () => {
      clearTimeout(giveUp);
      stop();
      resolve({ status, resetCode: stream.rstCode === h2.NGHTTP2_NO_ERROR ? undefined : stream.rstCode, afterMs: performance.now() - startedAt });
    });
  });
}

describe('slow clients over TLS: HTTPS/1.1 timeouts, HTTP/2 body rates by stream, HTTP/2 request timeout', { skip: 'skip' in tool ? tool.skip : false }, () => {
  let dir: string;
  let cert: TestCertificate;
  let upstream: TestUpstream;
  let proxy: ProxyServer;
  let port: number;

  before(async () => {
    dir = certificateDir();
    cert = makeCertificate(dir, 'slow', [HOST]);
    upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    ({ proxy, port } = await startTlsFrontDoor(HOST, cert, upstream, {
      clientHeadersTimeoutMs: HEADERS_TIMEOUT_MS,
      clientRequestTimeoutMs: REQUEST_TIMEOUT_MS,
      clientTimeoutCheckIntervalMs: 200,
      minBodyBytesPerSecond: MIN_BODY_BYTES_PER_SECOND,
      bodyRateGraceMs: BODY_RATE_GRACE_MS,
    }));
  });

  after(async () => {
    await proxy?.close();
    await upstream?.close();
    if (dir) removeDir(dir);
  });

  it('answers 408 to HTTPS/1.1 headers that trickle in, within the headers timeout and its check interval', async () => {
    const startedAt = performance.now();
    const { answer, linesSent } = await new Promise<{ answer: string; linesSent: number }>((resolve, reject) => {
      let linesSent = 0;
      let answer = '';
      const socket = tlsConnect({ host: LOOPBACK, port, servername: HOST, ca: cert.pem, ALPNProtocols: ['http/1.1'] }, () => {
        socket.write(`GET / HTTP/1.1\r\nhost: ${HOST}\r\n`);
      });
      const drip = setInterval(() => {
        if (socket.writable) socket.write(`x-drip-${linesSent++}: a\r\n`);
      }, 300);
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ answer, linesSent });
      });
      setTimeout(() => socket.destroy(), 10_000).unref();
    });
    const afterMs = performance.now() - startedAt;
    assert.ok(linesSent >= 2, `precondition: the headers kept trickling in (${linesSent} lines)`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(afterMs < HEADERS_TIMEOUT_MS + 1_500, `cut after ${afterMs.toFixed(0)} ms (headers timeout ${HEADERS_TIMEOUT_MS} ms)`);
  });

  it('cuts a slow HTTP/2 body even while the same connection is busy with pings and other requests', async () => {
    const session = http2Connect(`https://${HOST}:${port}`, { ca: cert.pem, servername: HOST, host: LOOPBACK } as Parameters<typeof http2Connect>[1]);
    let pings = 0;
    let fastAnswers = 0;
    const busy = setInterval(() => {
      session.ping(() => pings++);
      const fast = session.request({ ':path': '/fast' });
      fast.on('response', (headers) => headers[':status'] === 200 && fastAnswers++);
      fast.on('error', () => undefined);
      fast.resume();
    }, 100);
    try {
      // 30 bytes every 200 ms: 150 B/s, far under the 1 KiB/s minimum.
      const end = await slowPost(session, (write) => {
        const timer = setInterval(() => write(30), 200);
        return () => clearInterval(timer);
      });
      assert.ok(pings >= 5 && fastAnswers >= 5, `precondition: the connection stayed busy (${pings} pings, ${fastAnswers} other requests answered)`);
      assert.ok(end.status === 408 || end.resetCode !== undefined, `the slow body was not cut: ${JSON.stringify(end)}`);
      assert.ok(end.afterMs < BODY_RATE_GRACE_MS + 2_500, `cut after ${end.afterMs.toFixed(0)} ms`);
    } finally {
      clearInterval(busy);
      session.close();
    }
  });

  it('resets an HTTP/2 request whose body never ends at the request timeout, though it is fast enough', async () => {
    const session = http2Connect(`https://${HOST}:${port}`, { ca: cert.pem, servername: HOST, host: LOOPBACK } as Parameters<typeof http2Connect>[1]);
    let written = 0;
    try {
      // 2 KiB every 250 ms: 8 KiB/s, well over the minimum rate; it never ends.
      const end = await slowPost(session, (write) => {
        const timer = setInterval(() => write(2_048) && (written += 2_048), 250);
        return () => clearInterval(timer);
      });
      assert.ok(written >= 8 * 2_048, `precondition: the body kept flowing (${written} bytes)`);
      assert.equal(end.resetCode, h2.NGHTTP2_CANCEL, `the request was not reset: ${JSON.stringify(end)}`);
      assert.ok(end.afterMs >= REQUEST_TIMEOUT_MS - 100 && end.afterMs < REQUEST_TIMEOUT_MS + 2_000, `reset after ${end.afterMs.toFixed(0)} ms`);
    } finally {
      session.close();
    }
  });
});
