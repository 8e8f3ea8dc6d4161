/**
 * The fast lane's request reader: what it takes, what it leaves to the strict lane, and that
 * what it sends upstream is exactly what the strict lane's sanitiser would send (property-tested).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { sanitizeRequestHead } from '../forwarded-headers.js';
import { DEFAULT_PROXY_OPTIONS } from '../proxy-options.js';
import { parseSimpleRequest } from './simple-request.js';

const LIMITS = DEFAULT_PROXY_OPTIONS;
const ADDRESS = '10.0.0.7';

function parse(text: string, limits = LIMITS) {
  return parseSimpleRequest(Buffer.from(text, 'latin1'), 0, ADDRESS, limits);
}

/** Header lines of a head as `[name, value, …]`, the request line left out. */
function headerList(head: string): string[] {
  const flat: string[] = [];
  for (const line of head.split('\r\n').slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    flat.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return flat;
}

describe('parseSimpleRequest', () => {
  test('a plain GET goes upstream with its headers and the forwarding headers from the socket', () => {
    const request = parse('GET /a?b=1 HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\n\r\n');
    assert.ok(request);
    assert.equal(request.method, 'GET');
    assert.equal(request.body, undefined);
    assert.equal(request.wantsClose, false);
    assert.equal(
      request.upstreamHead,
      'GET /a?b=1 HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\n' +
        'x-forwarded-for: 10.0.0.7\r\nx-forwarded-proto: http\r\nx-forwarded-host: example.test\r\n\r\n',
    );
  });

  test('hop-by-hop, mirror and client-made forwarding headers are dropped; Connection: close is remembered', () => {
    const text =
      'POST /form HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\nHost: h\r\nConnection: close\r\nKeep-Alive: 5\r\n' +
      'x-cutover-mirror: 1\r\nTE: trailers\r\nContent-Length: 3\r\nForwarded: for=1.2.3.4\r\n\r\nabcGET / HTTP/1.1\r\n';
    const request = parse(text);
    assert.ok(request);
    assert.equal(request.wantsClose, true);
    assert.equal(request.body?.toString(), 'abc');
    assert.equal(request.length, text.indexOf('abc') + 3);
    assert.deepEqual(headerList(request.upstreamHead), [
      'Host',
      'h',
      'Content-Length',
      '3',
      'x-forwarded-for',
      ADDRESS,
      'x-forwarded-proto',
      'http',
      'x-forwarded-host',
      'h',
    ]);
  });

  test("issue 22: a client's X-Real-IP is dropped; a Cookie holding cutover's session goes to the strict lane, which removes it", () => {
    const request = parse('GET / HTTP/1.1\r\nHost: h\r\nX-Real-IP: 6.6.6.6\r\nCookie: a=1\r\n\r\n');
    assert.deepEqual(headerList(request!.upstreamHead), [
      'Host',
      'h',
      'Cookie',
      'a=1',
      'x-forwarded-for',
      ADDRESS,
      'x-forwarded-proto',
      'http',
      'x-forwarded-host',
      'h',
    ]);
    assert.equal(parse('GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; cutover_session=1.abc\r\n\r\n'), undefined);
  });

  const leftToStrictLane: [string, string][] = [
    ['an incomplete head', 'GET / HTTP/1.1\r\nHost: h\r\n'],
    ['an incomplete body', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab'],
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: h\r\n\r\n'],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['an unknown method', 'BREW / HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['a lower-case method', 'get / HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['an absolute-form target', 'GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['an asterisk target', 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['a target with a control byte', 'GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n'],
    ['no Host', 'GET / HTTP/1.1\r\nAccept: x\r\n\r\n'],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two Content-Lengths', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nab'],
    ['a signed Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\na'],
    ['a Content-Length list', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\na'],
    ['a framing look-alike', 'GET / HTTP/1.1\r\nHost: h\r\nContent_Length: 4\r\n\r\n'],
    ['Upgrade', 'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    ['Expect', 'POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\na'],
    ['Connection naming headers', 'GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Secret\r\nX-Secret: 1\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n'],
    ['a bare LF', 'GET / HTTP/1.1\nHost: h\r\n\r\n'],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r2\r\n\r\n'],
    ['space before the colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n'],
    ['an empty header name', 'GET / HTTP/1.1\r\n: h\r\nHost: h\r\n\r\n'],
    ['a non-ASCII value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xe9\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n'],
  ];
  for (const [what, text] of leftToStrictLane) {
    test(`leaves ${what} to the strict lane`, () => {
      assert.equal(parse(text), undefined);
    });
  }

  test('leaves requests over the limits to the strict lane, which answers 413, 414 and 431', () => {
    const limits = { ...LIMITS, maxRequestLineBytes: 30, maxHeaderBytes: 40, maxHeaderCount: 2, maxBodyBytes: 4, retryBodyBufferBytes: 8 };
    assert.ok(parse('GET /12345678 HTTP/1.1\r\nHost: h\r\n\r\n', limits));
    assert.equal(parse(`GET /${'x'.repeat(20)} HTTP/1.1\r\nHost: h\r\n\r\n`, limits), undefined);
    assert.equal(parse(`GET / HTTP/1.1\r\nHost: h\r\nX-Long: ${'x'.repeat(40)}\r\n\r\n`, limits), undefined);
    assert.equal(parse('GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n', limits), undefined);
    assert.equal(parse('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n12345', limits), undefined);
    assert.equal(parse('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n12345', { ...limits, maxBodyBytes: 0 })?.body?.length, 5);
    assert.equal(parse('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n123456789', { ...limits, maxBodyBytes: 0 }), undefined);
  });

  test("tells the target and Host for routing, and writes the listener's X-Forwarded-Proto", () => {
    const request = parseSimpleRequest(Buffer.from('GET /v1/x?y=1 HTTP/1.1\r\nHOST: Api.Example.test:8443\r\n\r\n', 'latin1'), 0, ADDRESS, LIMITS, 'https');
    assert.equal(request?.target, '/v1/x?y=1');
    assert.equal(request?.host, 'Api.Example.test:8443');
    assert.match(request?.upstreamHead ?? '', /\r\nx-forwarded-proto: https\r\nx-forwarded-host: Api\.Example\.test:8443\r\n\r\n$/);
  });

  test('reads the request at an offset (pipelined requests)', () => {
    const first = 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\n';
    const buf = Buffer.from(`${first}GET /2 HTTP/1.1\r\nHost: h\r\n\r\n`, 'latin1');
    const request = parseSimpleRequest(buf, first.length, undefined, LIMITS);
    assert.ok(request?.upstreamHead.startsWith('GET /2 HTTP/1.1\r\n'));
    assert.equal(request?.upstreamHead.includes('x-forwarded-for'), false);
  });

  const TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~";
  const name = fc.oneof(
    fc.constantFrom(
      'Connection',
      'Keep-Alive',
      'TE',
      'Trailer',
      'Proxy-Authorization',
      'X-Forwarded-For',
      'x-forwarded-proto',
      'X-Forwarded-Host',
      'Forwarded',
      'Host',
      'X-Cutover-Mirror',
      'Content-Length',
      'Cookie',
      'Accept',
      'Transfer-Encoding',
      'Expect',
      'X-Real-IP',
    ),
    fc.string({ unit: fc.constantFrom(...TOKEN), minLength: 1, maxLength: 16 }),
  );
  const value = fc.oneof(
    fc.constantFrom('keep-alive', 'close', '5', '6.6.6.6', 'chunked', 'X-Hop', 'cutover_session=1.a', 'a=1; cutover_session=2'),
    fc.string({ unit: fc.constantFrom(...' abcXYZ019,;=-_./:\t'), maxLength: 24 }),
  );
  const requests = fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'),
    path: fc.string({ unit: fc.constantFrom(...'/abz09?&=%-._~'), maxLength: 20 }).map((p) => `/${p}`),
    headers: fc
      .tuple(fc.array(fc.tuple(name, value), { maxLength: 6 }), fc.array(fc.tuple(name, value), { maxLength: 6 }))
      .map(([before, after]) => [...before, ['Host', 'example.test'] as [string, string], ...after]),
    body: fc.string({ unit: fc.constantFrom(...'ab\r\n'), maxLength: 10 }),
  });

  test('whatever it takes, it forwards what the strict lane would; it never takes what needs the strict lane', () => {
    let taken = 0;
    fc.assert(
      fc.property(requests, ({ method, path, headers, body }) => {
        const lines = headers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
        const text = `${method} ${path} HTTP/1.1\r\n${lines}\r\n${body}`;
        const request = parse(text);
        const names = headers.map(([n]) => n.toLowerCase());
        const count = (wanted: string): number => names.filter((n) => n === wanted).length;
        if (request === undefined) return;
        taken++;
        assert.equal(count('host'), 1);
        assert.equal(count('transfer-encoding') + count('expect') + count('upgrade'), 0);
        assert.ok(count('content-length') <= 1);
        const raw = headers.flatMap(([n, v]) => [n, v.replace(/^[ \t]+|[ \t]+$/g, '')]);
        assert.deepEqual(headerList(request.upstreamHead), sanitizeRequestHead(raw, ADDRESS, false).headers);
        // On the TLS listener, the same with X-Forwarded-Proto https.
        const overTls = parseSimpleRequest(Buffer.from(text, 'latin1'), 0, ADDRESS, LIMITS, 'https');
        assert.deepEqual(headerList(overTls!.upstreamHead), sanitizeRequestHead(raw, ADDRESS, false, 'https').headers);
        assert.ok(request.upstreamHead.startsWith(`${method} ${path} HTTP/1.1\r\n`));
        assert.equal(request.target, path);
        assert.equal(request.host, 'example.test');
        assert.equal(request.length, text.length - body.length + (request.body?.length ?? 0));
        // Any prefix of a simple request is incomplete: left to the strict lane, never misread.
        const cut = Math.max(0, text.length - body.length + (request.body?.length ?? 0) - 1);
        assert.equal(parse(text.slice(0, cut)), undefined);
      }),
      { numRuns: 2000 },
    );
    // The property says something only if plenty of requests were taken.
    assert.ok(taken > 100, `only ${taken} of 2000 generated requests were simple`);
  });
});
