/**
 * Idle HTTP/2 sessions on the front door's TLS listener: a session is closed (GOAWAY NO_ERROR)
 * after the idle timeout unless requests keep it busy. PINGs do not count as use, nor does a
 * request's header block sent one CONTINUATION frame at a time (the HTTP/2 slowloris: nghttp2
 * reports nothing until the block is complete, and Node's session timeout does not restart on
 * those frames), so neither holds a connection past the idle timeout.
 */
import assert from 'node:assert/strict';
import { constants as h2, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { ProxyServer } from '../../src/proxy/proxy-server.js';
import { LOOPBACK, startUpstream, type TestUpstream } from '../helpers/proxy-fixtures.js';
import { h2Get, h2Session } from '../helpers/tls-clients.js';
import { startTlsFrontDoor } from '../helpers/tls-front-door.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from '../helpers/test-certificates.js';
import { Flag, FrameType, PREFACE, frame, headerBlock, requestFields } from './h2-frames.js';

const tool = openssl();
const HOST = 'idle.test';
const IDLE_TIMEOUT_MS = 1_500;
/** HTTP/1.1's keep-alive timeout, below the idle timeout: the TLS server's timeout is the larger of the two. */
const KEEP_ALIVE_TIMEOUT_MS = 1_000;
/** Time allowed past the idle timeout for the GOAWAY and the close to arrive. */
const SLACK_MS = 1_000;
/**
 * One CONTINUATION frame this often: slow enough that nghttp2's own cap (8 CONTINUATION frames
 * per block) is not what ends the session, fast enough to restart a timeout that counted them.
 */
const DRIP_MS = 400;

/** An HTTP/2 session whose late errors (the server closing it) are expected. */
async function openSession(port: number, ca: string): Promise<ClientHttp2Session> {
  const session = await h2Session(port, HOST, ca);
  session.on('error', () => undefined);
  return session;
}

/** Resolves when the session is closed, with the GOAWAY code the server sent (undefined: none) and when. */
function closedSession(session: ClientHttp2Session, startedAt: number): Promise<{ goAwayCode: number | undefined; afterMs: number }> {
  let goAwayCode: number | undefined;
  session.once('goaway', (code: number) => (goAwayCode = code));
  return new Promise((resolve) => session.once('close', () => resolve({ goAwayCode, afterMs: performance.now() - startedAt })));
}

describe(
  'idle HTTP/2 sessions: closed after the idle timeout, whatever PINGs or partial header blocks arrive',
  { skip: 'skip' in tool ? tool.skip : false },
  () => {
    let dir: string;
    let cert: TestCertificate;
    let upstream: TestUpstream;
    let proxy: ProxyServer;
    let port: number;

    before(async () => {
      dir = certificateDir();
      cert = makeCertificate(dir, 'idle', [HOST]);
      upstream = await startUpstream((_req, res) => res.end('ok'));
      ({ proxy, port } = await startTlsFrontDoor(HOST, cert, upstream, { h2IdleTimeoutMs: IDLE_TIMEOUT_MS, clientKeepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS }));
    });

    after(async () => {
      await proxy?.close();
      await upstream?.close();
      if (dir) removeDir(dir);
    });

    it('cuts a request header block sent one CONTINUATION frame at a time', async () => {
      const startedAt = performance.now();
      const result = await new Promise<{ framesSent: number; goAwayCode: number | undefined; afterMs: number }>((resolve, reject) => {
        let framesSent = 0;
        let goAwayCode: number | undefined;
        let received = Buffer.alloc(0);
        const socket = tlsConnect({ host: LOOPBACK, port, servername: HOST, ca: cert.pem, ALPNProtocols: ['h2'] }, () => {
          // A HEADERS frame without END_HEADERS: the block goes on in CONTINUATION frames.
          socket.write(
            Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0), frame(FrameType.HEADERS, Flag.END_STREAM, 1, headerBlock(requestFields(HOST, '/')))]),
          );
          framesSent++;
        });
        const drip = setInterval(() => {
          if (!socket.writable) return;
          socket.write(frame(FrameType.CONTINUATION, 0, 1, headerBlock([[`x-drip-${framesSent}`, 'a']])));
          framesSent++;
        }, DRIP_MS);
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          while (received.length >= 9 && received.length >= 9 + received.readUIntBE(0, 3)) {
            const length = received.readUIntBE(0, 3);
            if (received[3] === FrameType.GOAWAY && goAwayCode === undefined) goAwayCode = received.readUInt32BE(9 + 4);
            received = received.subarray(9 + length);
          }
        });
        socket.on('error', reject);
        socket.on('close', () => {
          clearInterval(drip);
          resolve({ framesSent, goAwayCode, afterMs: performance.now() - startedAt });
        });
        setTimeout(() => socket.destroy(), IDLE_TIMEOUT_MS + 8_000).unref();
      });
      assert.ok(result.framesSent >= IDLE_TIMEOUT_MS / DRIP_MS, `precondition: the header block kept trickling in (${result.framesSent} frames)`);
      assert.equal(result.goAwayCode, h2.NGHTTP2_NO_ERROR, `the session was not ended by the idle timeout: ${JSON.stringify(result)}`);
      assert.ok(result.afterMs >= IDLE_TIMEOUT_MS - 100 && result.afterMs < IDLE_TIMEOUT_MS + SLACK_MS, `cut after ${result.afterMs.toFixed(0)} ms`);
    });

    it('closes a session that only sends PINGs', async () => {
      const startedAt = performance.now();
      const session = await openSession(port, cert.pem);
      let pings = 0;
      const pinger = setInterval(() => {
        if (!session.closed) session.ping((error) => error === null && pings++);
      }, 200);
      try {
        const closed = await closedSession(session, startedAt);
        assert.ok(pings >= 5, `precondition: the pings were answered (${pings})`);
        assert.equal(closed.goAwayCode, h2.NGHTTP2_NO_ERROR);
        assert.ok(closed.afterMs >= IDLE_TIMEOUT_MS - 100 && closed.afterMs < IDLE_TIMEOUT_MS + SLACK_MS, `closed after ${closed.afterMs.toFixed(0)} ms`);
      } finally {
        clearInterval(pinger);
        session.destroy();
      }
    });

    it('keeps a session that sends requests, and closes it once they stop', async () => {
      const startedAt = performance.now();
      const session = await openSession(port, cert.pem);
      const closed = closedSession(session, startedAt);
      try {
        const statuses: number[] = [];
        // Requests 0.5 s apart for twice the idle timeout.
        while (performance.now() - startedAt < 2 * IDLE_TIMEOUT_MS) {
          statuses.push((await h2Get(session, '/')).status);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        assert.ok(statuses.length >= 5 && statuses.every((status) => status === 200), `every request answered: ${statuses.join(',')}`);
        assert.equal(session.closed, false, 'a session in use was closed');
        // Idle from the last request's answer on (the loop waited 500 ms since).
        const idleFrom = performance.now() - 500;
        const { goAwayCode } = await closed;
        const idleMs = performance.now() - idleFrom;
        assert.equal(goAwayCode, h2.NGHTTP2_NO_ERROR);
        assert.ok(idleMs >= IDLE_TIMEOUT_MS - 100 && idleMs < IDLE_TIMEOUT_MS + SLACK_MS, `closed ${idleMs.toFixed(0)} ms after its last response`);
      } finally {
        session.destroy();
      }
    });
  },
);
