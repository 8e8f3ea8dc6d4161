/** The pure parts of the HTTP/2 stream lane: chunked bodies decoded for HTTP/2, response heads turned into HTTP/2 headers, request heads into HTTP/1.1. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ChunkedScanner, MALFORMED_CHUNKED, NEEDS_MORE } from '../fast-lane/chunked-scanner.js';
import { parseUpstreamResponse } from '../fast-lane/upstream-response.js';
import { http1HeadersOfH2 } from './h2-request.js';
import { h2ResponseHeaders } from './h2-response-head.js';

function decodeAll(parts: readonly string[]): { data: string; results: number[] } {
  const decoder = new ChunkedScanner();
  const data: Buffer[] = [];
  const results = parts.map((part) => decoder.scan(Buffer.from(part, 'latin1'), 0, false, (chunk) => data.push(Buffer.from(chunk))));
  return { data: Buffer.concat(data).toString('latin1'), results };
}

describe('ChunkedScanner handing out the data (chunked bodies for HTTP/2 clients)', () => {
  test('hands out the data alone, drops extensions and trailers, and tells where the body ends', () => {
    const body = '3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT';
    const { data, results } = decodeAll([body]);
    assert.equal(data, 'abc0123456789');
    assert.deepEqual(results, [body.length - 4]);
  });

  test('follows a body split anywhere across reads', () => {
    const body = '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
    for (let cut = 1; cut < body.length; cut++) {
      const { data, results } = decodeAll([body.slice(0, cut), body.slice(cut)]);
      assert.equal(data, 'hello world', `cut at ${cut}`);
      assert.equal(results[0], NEEDS_MORE);
      assert.equal(results[1], body.length - cut);
    }
  });

  test('refuses what the fast lane refuses: bad sizes, missing CRLF, bare LF, control bytes', () => {
    for (const bad of ['x\r\n', '3\r\nabcX\r\n', '3\nabc\r\n', '3;\u0001\r\n', 'ffffffffffffffff0\r\n', '0\r\nTrailer\u0000\r\n\r\n', '\r\n']) {
      assert.equal(decodeAll([bad]).results.at(-1), MALFORMED_CHUNKED, JSON.stringify(bad));
    }
  });

  test('ends where the fast lane scanner ends and yields the bytes the chunks carried (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 6 }), fc.nat(200), (chunks, cutSeed) => {
        const wire = Buffer.concat([
          ...chunks.flatMap((chunk) => [Buffer.from(`${chunk.length.toString(16)}\r\n`), Buffer.from(chunk), Buffer.from('\r\n')]),
          Buffer.from('0\r\n\r\n'),
        ]);
        const cut = cutSeed % (wire.length + 1);
        const decoder = new ChunkedScanner();
        const out: Buffer[] = [];
        const first = decoder.scan(wire.subarray(0, cut), 0, false, (data) => out.push(Buffer.from(data)));
        const second = first >= 0 ? first : decoder.scan(wire.subarray(cut), 0, false, (data) => out.push(Buffer.from(data)));
        assert.ok(decoder.isDone);
        assert.deepEqual(Buffer.concat(out), Buffer.concat(chunks.map((chunk) => Buffer.from(chunk))));
        assert.equal(first >= 0 ? first : cut + second, new ChunkedScanner().scan(wire, 0));
      }),
    );
  });
});

describe('h2ResponseHeaders', () => {
  function headersOf(text: string, extra?: string[]) {
    const head = parseUpstreamResponse(Buffer.from(text, 'latin1'), 0, false, 64 * 1024);
    assert.ok(typeof head === 'object');
    return h2ResponseHeaders(head.clientHead, head.status, extra);
  }

  test('lower-cases names, repeats as arrays, drops connection-specific headers, adds the extra ones last', () => {
    const headers = headersOf(
      'HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\nX-Spaced:   v  \r\n\r\n',
      ['strict-transport-security', 'max-age=60'],
    );
    assert.deepEqual(
      { ...headers },
      { ':status': 201, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-spaced': 'v', 'strict-transport-security': 'max-age=60' },
    );
  });

  test('keeps Content-Length (HEAD and 304 too) and adds no date of its own', () => {
    assert.deepEqual({ ...headersOf('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: x\r\n\r\n') }, { ':status': 200, date: 'x', 'content-length': '5' });
    assert.deepEqual({ ...headersOf('HTTP/1.1 304 Not Modified\r\n\r\n') }, { ':status': 304 });
  });
});

describe('http1HeadersOfH2', () => {
  test('drops pseudo-headers, turns :authority into Host first, joins cookies, keeps a disagreeing host as a second Host', () => {
    assert.deepEqual(http1HeadersOfH2([':method', 'GET', ':path', '/', ':authority', 'a.test', 'cookie', 'x=1', 'accept', '*/*', 'cookie', 'y=2']), [
      'host',
      'a.test',
      'cookie',
      'x=1; y=2',
      'accept',
      '*/*',
    ]);
    assert.deepEqual(http1HeadersOfH2([':authority', 'a.test', 'host', 'b.test']), ['host', 'a.test', 'host', 'b.test']);
    assert.deepEqual(http1HeadersOfH2([':path', '/', 'host', 'b.test']), ['host', 'b.test']);
    assert.deepEqual(http1HeadersOfH2([':authority', 'a.test', 'host', 'a.test', 'cookie', 'x=1']), ['host', 'a.test', 'cookie', 'x=1']);
    assert.deepEqual(http1HeadersOfH2([':method', 'GET', 'accept', '*/*']), ['accept', '*/*']);
  });
});
