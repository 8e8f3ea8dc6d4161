/** The fast lane's reading of upstream responses: heads rewritten for the client, and chunked bodies followed to their end. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ChunkedScanner, MALFORMED_CHUNKED, NEEDS_MORE } from './chunked-scanner.js';
import { Framing, INCOMPLETE, MALFORMED, parseUpstreamResponse } from './upstream-response.js';

function read(text: string, isHead = false, maxBytes = 64 * 1024) {
  return parseUpstreamResponse(Buffer.from(text, 'latin1'), 0, isHead, maxBytes);
}

describe('parseUpstreamResponse', () => {
  test('a length-framed response keeps its headers, drops hop-by-hop ones and restates the length once', () => {
    const head = read(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\nSet-Cookie: a=1\r\n\r\nhello',
    );
    assert.ok(typeof head === 'object');
    assert.equal(head.status, 200);
    assert.equal(head.framing, Framing.Length);
    assert.equal(head.contentLength, 5);
    assert.equal(head.isReusable, true);
    assert.equal(head.keepAliveMs, 5000);
    assert.equal(
      head.length,
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\nSet-Cookie: a=1\r\n\r\n'.length,
    );
    assert.equal(head.clientHead, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\ncontent-length: 5\r\n');
  });

  test('chunked, close-delimited, bodyless and HTTP/1.0 responses are framed as HTTP says', () => {
    const chunked = read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    assert.ok(typeof chunked === 'object');
    assert.equal(chunked.framing, Framing.Chunked);
    assert.match(chunked.clientHead, /transfer-encoding: chunked\r\n$/);

    const untilClose = read('HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n');
    assert.ok(typeof untilClose === 'object');
    assert.equal(untilClose.framing, Framing.UntilClose);
    assert.equal(untilClose.isReusable, false);

    for (const [text, isHead] of [
      ['HTTP/1.1 204 No Content\r\n\r\n', false],
      ['HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n', false],
      ['HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n', true],
    ] as const) {
      const head = read(text, isHead);
      assert.ok(typeof head === 'object', text);
      assert.equal(head.framing, Framing.None, text);
    }

    const old = read('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.ok(typeof old === 'object');
    assert.equal(old.isReusable, false);
    assert.ok(old.clientHead.startsWith('HTTP/1.1 200 OK\r\n'));
    const oldKept = read('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n');
    assert.ok(typeof oldKept === 'object' && oldKept.isReusable);
    const closing = read('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    assert.ok(typeof closing === 'object' && !closing.isReusable && !closing.clientHead.toLowerCase().includes('connection'));
  });

  test('headers the upstream names in Connection are dropped; a missing reason gets the standard one', () => {
    const head = read('HTTP/1.1 404\r\nConnection: X-Internal\r\nX-Internal: secret\r\nX-Public: 1\r\nContent-Length: 0\r\n\r\n');
    assert.ok(typeof head === 'object');
    assert.equal(head.clientHead, 'HTTP/1.1 404 Not Found\r\nX-Public: 1\r\ncontent-length: 0\r\n');
  });

  test('1xx heads are returned bodyless, so the caller can skip them', () => {
    const head = read('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n');
    assert.ok(typeof head === 'object');
    assert.equal(head.status, 100);
    assert.equal(head.framing, Framing.None);
    assert.equal(head.length, 'HTTP/1.1 100 Continue\r\n\r\n'.length);
  });

  const malformed: [string, string][] = [
    ['Transfer-Encoding other than chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
    ['Transfer-Encoding with Content-Length', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n'],
    ['two different lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['a bad length', 'HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n'],
    ['a bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n'],
    ['a bad status', 'HTTP/1.1 2x0 OK\r\n\r\n'],
    ['HTTP/2', 'HTTP/2.0 200 OK\r\n\r\n'],
    ['not HTTP', 'SSH-2.0-OpenSSH_9.2p1\r\n'],
  ];
  for (const [what, text] of malformed) {
    test(`refuses ${what}`, () => assert.equal(read(text), MALFORMED));
  }

  test('a head not all there is incomplete until it passes the size bound', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
    for (let cut = 0; cut < text.length; cut++) assert.equal(read(text.slice(0, cut)), INCOMPLETE, `cut at ${cut}`);
    assert.equal(read(`HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(100)}`, false, 64), MALFORMED);
  });

  test('duplicate equal lengths are accepted and sent once', () => {
    const head = read('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n');
    assert.ok(typeof head === 'object');
    assert.equal(head.clientHead.match(/content-length/gi)?.length, 1);
  });
});

describe('ChunkedScanner', () => {
  test('finds the end of the body, extensions and trailers included, and stops there', () => {
    const body = '4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: a\r\n\r\n';
    const scanner = new ChunkedScanner();
    assert.equal(scanner.scan(Buffer.from(`${body}HTTP/1.1`), 0), body.length);
    assert.ok(scanner.isDone);
  });

  const bad = ['x\r\n', '4\r\nWikiXX', '4\nWiki\r\n', '0\r\nX: a\nb', '10000000000000000\r\n', '4;\x01\r\n', '\r\n'];
  for (const text of bad) {
    test(`refuses ${JSON.stringify(text)}`, () => assert.equal(new ChunkedScanner().scan(Buffer.from(text, 'latin1'), 0), MALFORMED_CHUNKED));
  }

  test('however a chunked body is cut into pieces, its end is found exactly once, at the right byte', () => {
    const chunks = fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 6 });
    fc.assert(
      fc.property(chunks, fc.array(fc.nat({ max: 400 }), { maxLength: 5 }), fc.boolean(), (data, cuts, hasTrailer) => {
        const parts: Buffer[] = [];
        for (const chunk of data) parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), Buffer.from(chunk), Buffer.from('\r\n'));
        parts.push(Buffer.from(hasTrailer ? '0\r\nA: b\r\n\r\n' : '0\r\n\r\n'));
        const body = Buffer.concat(parts);
        const stream = Buffer.concat([body, Buffer.from('NEXT')]);
        const offsets = [...new Set(cuts.map((cut) => cut % stream.length))].sort((a, b) => a - b);
        const scanner = new ChunkedScanner();
        let start = 0;
        let found: number | undefined;
        for (const end of [...offsets, stream.length]) {
          if (end <= start) continue;
          const result = scanner.scan(stream.subarray(start, end), 0);
          assert.notEqual(result, MALFORMED_CHUNKED);
          if (result !== NEEDS_MORE) {
            found = start + result;
            break;
          }
          start = end;
        }
        assert.equal(found, body.length);
      }),
      { numRuns: 500 },
    );
  });
});
