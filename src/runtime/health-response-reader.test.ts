import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthResponseReader, MAX_BODY_BYTES, MAX_HEAD_BYTES, type ReadStep } from './health-response-reader.js';

/** Feeds the answer to a new reader in pieces of `pieceBytes` and returns the last step. */
function read(answer: string | Buffer, pieceBytes = Infinity): ReadStep {
  const bytes = typeof answer === 'string' ? Buffer.from(answer, 'latin1') : answer;
  const reader = new HealthResponseReader();
  let step: ReadStep = { kind: 'more' };
  for (let at = 0; at < bytes.length && step.kind === 'more'; at += pieceBytes) step = reader.push(bytes.subarray(at, at + pieceBytes));
  return step;
}

describe('HealthResponseReader', () => {
  it('reads a status and skips a body framed by Content-Length, whole or byte by byte', () => {
    const answer = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello';
    assert.deepEqual(read(answer), { kind: 'answered', status: 200, isReusable: true });
    assert.deepEqual(read(answer, 1), { kind: 'answered', status: 200, isReusable: true });
    assert.deepEqual(read(answer.slice(0, -1)), { kind: 'more' }, 'one body byte short is not an answer yet');
  });

  it('skips a chunked body with extensions and trailers, whole or byte by byte', () => {
    const answer = 'HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\n' + 'x'.repeat(26) + '\r\n0\r\nX-Trailer: 1\r\n\r\n';
    assert.deepEqual(read(answer), { kind: 'answered', status: 503, isReusable: true });
    assert.deepEqual(read(answer, 1), { kind: 'answered', status: 503, isReusable: true });
    assert.deepEqual(read(answer.slice(0, -2)), { kind: 'more' }, 'the empty line after the trailers ends the answer');
  });

  it('refuses what is not HTTP/1.x: a garbage status line, a bad header, bad framing', () => {
    for (const [answer, reason] of [
      ['SSH-2.0-OpenSSH_9.2\r\n\r\n', 'malformed status line'],
      ['HTTP/1.1 20 OK\r\n\r\n', 'malformed status line'],
      ['HTTP/2 200\r\n\r\n', 'malformed status line'],
      ['\x00\x01\x02\x03\r\n\r\n', 'malformed status line'],
      ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'malformed header line'],
      ['HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', 'malformed header line'],
      ['HTTP/1.1 200 OK\r\nX: a\nb\r\n\r\n', 'malformed header line'],
      ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'invalid Content-Length'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 'invalid Content-Length'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n', 'both Content-Length and Transfer-Encoding'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'malformed chunk size'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY', 'chunk not followed by CRLF'],
    ]) {
      assert.deepEqual(read(answer!), { kind: 'invalid', reason }, JSON.stringify(answer));
    }
  });

  it('refuses a head over the limit, whether it never ends or ends too late', () => {
    const endless = Buffer.alloc(MAX_HEAD_BYTES + 10, 'a');
    assert.deepEqual(read(endless, 1000), { kind: 'invalid', reason: `response head over ${MAX_HEAD_BYTES} bytes` });
    const long = `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`;
    assert.deepEqual(read(long), { kind: 'invalid', reason: `response head over ${MAX_HEAD_BYTES} bytes` });
    const endlessChunkLine = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + '0'.repeat(2000);
    assert.deepEqual(read(endlessChunkLine, 100), { kind: 'invalid', reason: 'chunk-size line over 1024 bytes' });
  });

  it('takes the verdict on the status past the body limit, and does not reuse that connection', () => {
    const reader = new HealthResponseReader();
    assert.deepEqual(reader.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n')), { kind: 'more' });
    let step: ReadStep = { kind: 'more' };
    const piece = Buffer.alloc(64 * 1024);
    let pushed = 0;
    while (step.kind === 'more') {
      step = reader.push(piece);
      pushed += piece.length;
    }
    assert.deepEqual(step, { kind: 'answered', status: 200, isReusable: false });
    assert.ok(pushed > MAX_BODY_BYTES && pushed <= MAX_BODY_BYTES + piece.length, `stopped after ${pushed} body bytes`);
  });

  it('reads a header line of many spaces in linear time', () => {
    const started = performance.now();
    for (let n = 0; n < 20; n++) {
      const answer = `HTTP/1.1 200 OK\r\nX-Pad: a${' '.repeat(15_000)}b\r\nTransfer-Encoding: x,${' \t'.repeat(300)}chunked${' '.repeat(300)}\r\n\r\n0\r\n\r\n`;
      assert.deepEqual(read(answer), { kind: 'answered', status: 200, isReusable: true });
    }
    const tookMs = performance.now() - started;
    assert.ok(tookMs < 1_000, `20 answers took ${tookMs} ms`);
  });

  it('skips interim 1xx answers and reads the real one', () => {
    assert.deepEqual(read('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'), {
      kind: 'answered',
      status: 204,
      isReusable: true,
    });
  });

  it('tells when the connection cannot carry the next check', () => {
    assert.deepEqual(read('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'), { kind: 'answered', status: 200, isReusable: false });
    assert.deepEqual(read('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'), { kind: 'answered', status: 200, isReusable: false });
    assert.deepEqual(
      read('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n'),
      { kind: 'answered', status: 200, isReusable: false },
      'bytes nobody asked for',
    );
    assert.deepEqual(read('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'), { kind: 'answered', status: 101, isReusable: false });
    assert.deepEqual(read('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n'), { kind: 'answered', status: 304, isReusable: true }, '304 has no body');
  });

  it('reads a body that runs until the app closes the connection', () => {
    const reader = new HealthResponseReader();
    assert.deepEqual(reader.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome body')), { kind: 'more' });
    assert.deepEqual(reader.closed(), { kind: 'answered', status: 200, isReusable: false });
  });

  it('tells a body cut off by a close from a complete answer', () => {
    const reader = new HealthResponseReader();
    assert.equal(reader.hasStarted, false);
    reader.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    assert.equal(reader.closed(), undefined);
    assert.equal(reader.status, 200);
    assert.equal(reader.hasStarted, true);
  });

  it("reads the app's Keep-Alive timeout", () => {
    const reader = new HealthResponseReader();
    reader.push(Buffer.from('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n'));
    assert.equal(reader.keepAliveTimeoutMs, 5_000);
  });
});
