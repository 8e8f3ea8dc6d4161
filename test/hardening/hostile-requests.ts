/**
 * The hostile-input corpus: malformed, ambiguous and abusive HTTP/1.x requests, each with
 * the answer the proxy must give (statuses in order, whether it closes the connection) and how
 * many requests may reach the upstream. Written for cutover after HAProxy's reg-tests
 * (http-messaging/*), llhttp's test cases, the request-smuggling CVEs of Node/llhttp and
 * RELIABILITY.md §3.1; sent byte by byte by hostile-requests.test.ts.
 *
 * Markers: a path containing "smuggled" or "after-error" must never reach the upstream as a
 * request; "6.6.6.6" and "evil.example" in forwarding headers must never reach it either.
 */

export interface HostileVector {
  group: string;
  name: string;
  bytes: string;
  /** Final statuses the client gets, in order; an array entry lists accepted alternatives. */
  statuses: (number | number[])[];
  /** The proxy closes the connection after answering (else a probe request must still work). */
  closes: boolean;
  /** Requests the upstream may see (default: the number of 200s expected); 'any' for truncated bodies. */
  upstream?: number | 'any';
  /** Bytes per write (default 1: byte by byte). */
  chunkBytes?: number;
  /** The client half-closes after sending (it goes away). */
  halfClose?: boolean;
}

/** The body cap the tests give the proxy, so that 413 is cheap to reach. */
export const TEST_MAX_BODY_BYTES = 100_000;

const CRLF = '\r\n';
const HOST = 'Host: app.test';
const SMUGGLED = `GET /smuggled HTTP/1.1${CRLF}${HOST}${CRLF}${CRLF}`;

/** A request from its request line, header lines and body. */
function req(line: string, headers: string[] = [HOST], body = ''): string {
  return `${line}${CRLF}${headers.map((h) => `${h}${CRLF}`).join('')}${CRLF}${body}`;
}

const get = (path = '/', headers: string[] = []): string => req(`GET ${path} HTTP/1.1`, [HOST, ...headers]);
const post = (headers: string[], body: string, path = '/post'): string => req(`POST ${path} HTTP/1.1`, [HOST, ...headers], body);
const chunk = (data: string): string => `${data.length.toString(16)}${CRLF}${data}${CRLF}`;
const LAST_CHUNK = `0${CRLF}${CRLF}`;

const vectors: HostileVector[] = [];
function add(group: string, name: string, bytes: string, statuses: (number | number[])[], closes: boolean, extra: Partial<HostileVector> = {}): void {
  vectors.push({ group, name, bytes, statuses, closes, ...extra });
}

// --- baselines: well-formed requests pass, and the connection stays usable ---------------------
add('baseline', 'plain GET', get('/'), [200], false);
add('baseline', 'GET with a query', get('/a?b=c&d=%20'), [200], false);
add('baseline', 'POST with Content-Length', post(['Content-Length: 5'], 'hello'), [200], false);
add('baseline', 'POST chunked', post(['Transfer-Encoding: chunked'], chunk('hello') + LAST_CHUNK), [200], false);
add('baseline', 'POST chunked with an extension', post(['Transfer-Encoding: chunked'], `5;name=value${CRLF}hello${CRLF}${LAST_CHUNK}`), [200], false);
add('baseline', 'POST chunked with a trailer', post(['Transfer-Encoding: chunked'], `${chunk('hello')}0${CRLF}X-Trailer: 1${CRLF}${CRLF}`), [200], false);
add('baseline', 'Content-Length with spaces around the value', post(['Content-Length:  5 '], 'hello'), [200], false);
add('baseline', 'empty lines before the request line', `${CRLF}${get('/')}`, [200], false);
add('baseline', 'three pipelined GETs answered in order', get('/1') + get('/2') + get('/3'), [200, 200, 200], false);
add('baseline', 'pipelined POST then GET', post(['Content-Length: 5'], 'hello') + get('/after'), [200, 200], false);
add('baseline', 'HTTP/1.0 GET with Host closes', req('GET / HTTP/1.0'), [200], true);
add('baseline', 'HTTP/1.0 GET without Host closes', req('GET / HTTP/1.0', []), [200], true);
add('baseline', 'HTTP/1.0 keep-alive stays open', req('GET / HTTP/1.0', [HOST, 'Connection: keep-alive']), [200], false);
add('baseline', 'Connection: close closes', get('/', ['Connection: close']), [200], true);
add('baseline', 'OPTIONS on a path', req('OPTIONS /x HTTP/1.1'), [200], false);
add('baseline', 'DELETE', req('DELETE /x HTTP/1.1'), [200], false);
add('baseline', 'percent-encoded traversal passes byte for byte', get('/..%2f..%2fetc/passwd'), [200], false);
add('baseline', 'double slash path', get('//double//slash'), [200], false);
add('baseline', 'a Host nobody configured is passed as sent', req('GET / HTTP/1.1', ['Host: other.example']), [200], false);
add('baseline', 'Expect: 100-continue gets 100 then 200', post(['Content-Length: 5', 'Expect: 100-continue'], 'hello'), [200], false);
add(
  'baseline',
  'exactly 200 header fields',
  get(
    '/',
    Array.from({ length: 199 }, (_, i) => `X-H${i}: v`),
  ),
  [200],
  false,
);
add('baseline', 'UTF-8 (obs-text) in a header value', get('/', ['X-Name: caf\u00c3\u00a9']), [200], false);

// --- Content-Length and Transfer-Encoding together or obfuscated (smuggling) -----------------
const teClBodies = `0${CRLF}${CRLF}${SMUGGLED}`;
for (const [name, headers] of [
  ['CL then TE', ['Content-Length: 4', 'Transfer-Encoding: chunked']],
  ['TE then CL', ['Transfer-Encoding: chunked', 'Content-Length: 4']],
  ['CL 0 and TE', ['Content-Length: 0', 'Transfer-Encoding: chunked']],
  ['CL and TE in upper case', ['CONTENT-LENGTH: 4', 'TRANSFER-ENCODING: chunked']],
  ['CL and TE chunked, chunked', ['Content-Length: 4', 'Transfer-Encoding: chunked, chunked']],
  ['CL and TE identity', ['Content-Length: 4', 'Transfer-Encoding: identity']],
  ['CL and TE gzip, chunked', ['Content-Length: 4', 'Transfer-Encoding: gzip, chunked']],
  ['CL and two TE lines', ['Content-Length: 4', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked']],
] as const) {
  add('smuggling', name, post([...headers], teClBodies), [400], true, { upstream: 0 });
}
for (const [name, te] of [
  ['TE chunked, gzip (chunked not last)', 'Transfer-Encoding: chunked, gzip'],
  ['TE gzip alone', 'Transfer-Encoding: gzip'],
  ['TE identity', 'Transfer-Encoding: identity'],
  ['TE xchunked', 'Transfer-Encoding: xchunked'],
  ['TE chunkedx', 'Transfer-Encoding: chunkedx'],
  ['TE chunked with a vertical tab', 'Transfer-Encoding: \x0bchunked'],
  ['TE with a space before the colon', 'Transfer-Encoding : chunked'],
  ['TE with a tab before the colon', 'Transfer-Encoding\t: chunked'],
  ['TE value with a NUL', 'Transfer-Encoding: chunked\x00'],
  ['TE value with a bare CR', 'Transfer-Encoding: chunked\rX: y'],
  ['TE continued by obs-fold', `Transfer-Encoding:${CRLF} chunked`],
  ['TE with a parameter', 'Transfer-Encoding: chunked;q=1'],
  ['TE "chunked, "', 'Transfer-Encoding: chunked, '],
  ['TE quoted', 'Transfer-Encoding: "chunked"'],
] as const) {
  add('smuggling', name, post([te, 'Content-Length: 4'], teClBodies), [400], true, { upstream: 0 });
  add('smuggling', `${name} without CL`, post([te], teClBodies), [[400, 200]], true, { upstream: 'any' });
}
for (const [name, te] of [
  ['TE CHUNKED upper case', 'Transfer-Encoding: CHUNKED'],
  ['TE gzip, chunked', 'Transfer-Encoding: gzip, chunked'],
  ['TE with trailing whitespace', 'Transfer-Encoding: chunked  '],
] as const) {
  // Parsed as chunked: the body ends at the last chunk; what follows is the next request.
  add('smuggling', `${name} frames by chunks`, post([te], `${chunk('data')}${LAST_CHUNK}`) + get('/second'), [200, 200], false);
}
add('smuggling', 'TE chunked, chunked', post(['Transfer-Encoding: chunked, chunked'], `${chunk('data')}${LAST_CHUNK}${SMUGGLED}`), [400], true, {
  upstream: 0,
});
add(
  'smuggling',
  'TE chunked twice on separate lines',
  post(['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], `${chunk('data')}${LAST_CHUNK}${SMUGGLED}`),
  [400],
  true,
  { upstream: 0 },
);
add('smuggling', 'Transfer_Encoding (underscore) with CL', post(['Transfer_Encoding: chunked', 'Content-Length: 4'], teClBodies), [400], true, { upstream: 0 });
add('smuggling', 'Content_Length (underscore) with TE', post(['Content_Length: 4', 'Transfer-Encoding: chunked'], teClBodies), [400], true, { upstream: 0 });
add('smuggling', 'content_length (underscore) alone', post(['content_length: 4'], `body${SMUGGLED}`), [400], true, { upstream: 0 });

// --- Content-Length variants -----------------------------------------------------------------
for (const [name, cl] of [
  ['two equal Content-Length headers', ['Content-Length: 5', 'Content-Length: 5']],
  ['two different Content-Length headers', ['Content-Length: 5', 'Content-Length: 50']],
  ['Content-Length list 5,5', ['Content-Length: 5,5']],
  ['Content-Length list 5, 50', ['Content-Length: 5, 50']],
  ['Content-Length +5', ['Content-Length: +5']],
  ['Content-Length -1', ['Content-Length: -1']],
  ['Content-Length 0x5', ['Content-Length: 0x5']],
  ['Content-Length 5e0', ['Content-Length: 5e0']],
  ['Content-Length with letters', ['Content-Length: abc']],
  ['Content-Length empty', ['Content-Length: ']],
  ['Content-Length over 2^64', ['Content-Length: 99999999999999999999999']],
  ['Content-Length 5.0', ['Content-Length: 5.0']],
  ['Content-Length with a space inside', ['Content-Length: 5 5']],
  ['Content-Length with a space before the colon', ['Content-Length : 5']],
  ['Content-Length continued by obs-fold', [`Content-Length:${CRLF} 5`]],
  ['Content-Length with a NUL', ['Content-Length: 5\x00']],
] as const) {
  add('content-length', name, post([...cl], `hello${SMUGGLED}`), [400], true, { upstream: 0 });
}
add(
  'content-length',
  'Content-Length shorter than the body: the rest is the next request',
  post(['Content-Length: 2'], `hi${get('/second')}`),
  [200, 200],
  false,
);
add('content-length', 'Content-Length on a GET carries a body', req('GET /with-body HTTP/1.1', [HOST, 'Content-Length: 5'], 'hello'), [200], false);
add(
  'content-length',
  `Content-Length over the ${TEST_MAX_BODY_BYTES}-byte cap: 413 at once`,
  post([`Content-Length: ${TEST_MAX_BODY_BYTES + 1}`], 'x'.repeat(64)),
  [413],
  true,
  { upstream: 0 },
);
add('content-length', 'Content-Length 2^53 is over the cap', post(['Content-Length: 9007199254740993'], 'x'), [413], true, { upstream: 0 });
add(
  'content-length',
  'Expect: 100-continue with a body over the cap',
  post([`Content-Length: ${TEST_MAX_BODY_BYTES * 10}`, 'Expect: 100-continue'], ''),
  [413],
  true,
  { upstream: 0 },
);
add('content-length', 'a body shorter than Content-Length, then the client goes', post(['Content-Length: 50'], 'short'), [400], true, {
  upstream: 0,
  halfClose: true,
});

// --- chunked framing ---------------------------------------------------------------------------
for (const [name, body] of [
  ['non-hex chunk size', `zz${CRLF}hello${CRLF}${LAST_CHUNK}`],
  ['chunk size overflow', `ffffffffffffffff1${CRLF}hello${CRLF}${LAST_CHUNK}`],
  ['negative chunk size', `-5${CRLF}hello${CRLF}${LAST_CHUNK}`],
  ['chunk size 0x5', `0x5${CRLF}hello${CRLF}${LAST_CHUNK}`],
  ['chunk size with a leading space', ` 5${CRLF}hello${CRLF}${LAST_CHUNK}`],
  ['chunk data longer than its size', `3${CRLF}hello${CRLF}${LAST_CHUNK}`],
  ['missing CRLF after chunk data', `5${CRLF}hello0${CRLF}${CRLF}`],
  ['chunk size line ends with a bare LF', `5\nhello${CRLF}${LAST_CHUNK}`],
  ['chunk data ends with a bare LF', `5${CRLF}hello\n${LAST_CHUNK}`],
  ['chunk size line ends with a bare CR', `5\rhello${CRLF}${LAST_CHUNK}`],
  ['chunk extension with a bare CR', `5;a=b\rc${CRLF}hello${CRLF}${LAST_CHUNK}`],
  ['chunk extension with a NUL', `5;a\x00${CRLF}hello${CRLF}${LAST_CHUNK}`],
  ['chunk extension with a bare LF', `5;a\nb${CRLF}hello${CRLF}${LAST_CHUNK}`],
  ['smuggled request hidden behind a bad chunk', `5${CRLF}hello${CRLF}zz${CRLF}${SMUGGLED}`],
] as const) {
  add('chunked', name, post(['Transfer-Encoding: chunked'], body + SMUGGLED), [[400, 413]], true, { upstream: 'any' });
}
add('chunked', 'a huge chunk extension', post(['Transfer-Encoding: chunked'], `5;${'e'.repeat(20_000)}${CRLF}hello${CRLF}${LAST_CHUNK}`), [[400, 413]], true, {
  upstream: 'any',
  chunkBytes: 256,
});
add(
  'chunked',
  `a chunked body over the ${TEST_MAX_BODY_BYTES}-byte cap: 413`,
  post(['Transfer-Encoding: chunked'], chunk('x'.repeat(60_000)) + chunk('x'.repeat(60_000)) + LAST_CHUNK),
  [413],
  true,
  { upstream: 'any', chunkBytes: 4096 },
);
add('chunked', 'a truncated last chunk, then the client goes', post(['Transfer-Encoding: chunked'], `5${CRLF}hel`), [400], true, {
  upstream: 'any',
  halfClose: true,
});
add(
  'chunked',
  'a trailer holding Content-Length is refused',
  post(['Transfer-Encoding: chunked'], `${chunk('hello')}0${CRLF}Content-Length: 5${CRLF}${CRLF}${SMUGGLED}`),
  [400],
  true,
  { upstream: 'any' },
);
add(
  'chunked',
  'a trailer holding Host is dropped',
  post(['Transfer-Encoding: chunked'], `${chunk('hello')}0${CRLF}Host: evil.example${CRLF}${CRLF}`),
  [200],
  false,
);

// --- header syntax --------------------------------------------------------------------------------
for (const [name, line] of [
  ['a space inside a header name', 'X Bad: 1'],
  ['a space before the colon', 'X-Bad : 1'],
  ['an empty header name', ': empty'],
  ['a header line without a colon', 'NoColonHere'],
  ['a NUL in a header value', 'X-Bad: a\x00b'],
  ['a bare CR in a header value', 'X-Bad: a\rb'],
  ['a DEL in a header value', 'X-Bad: a\x7fb'],
  ['an escape character in a header value', 'X-Bad: a\x1bb'],
  ['a NUL in a header name', 'X-B\x00ad: 1'],
  ['a non-ASCII byte in a header name', 'X-B\u00e9d: 1'],
  ['obs-fold continuation of a header', `X-Folded: a${CRLF} b`],
  ['a header line that is only whitespace', '   '],
] as const) {
  add('header-syntax', name, get('/', [line]) + SMUGGLED, [400], true, { upstream: 0 });
}
for (const ch of ['(', ')', '<', '>', '@', ',', ';', '\\', '"', '/', '[', ']', '?', '=', '{', '}']) {
  add('header-syntax', `a "${ch}" in a header name`, get('/', [`X-Bad${ch}Name: 1`]) + SMUGGLED, [400], true, { upstream: 0 });
}
for (const code of [0x01, 0x02, 0x07, 0x08, 0x0b, 0x0c, 0x0e, 0x1f]) {
  add(
    'header-syntax',
    `control character 0x${code.toString(16).padStart(2, '0')} in a header value`,
    get('/', [`X-Ctl: a${String.fromCharCode(code)}b`]) + SMUGGLED,
    [400],
    true,
    { upstream: 0 },
  );
}
add('header-syntax', 'header lines ending with a bare LF', `GET / HTTP/1.1\n${HOST}\nX-A: 1\n\n${SMUGGLED}`, [400], true, { upstream: 0 });
add('header-syntax', 'head ending with a bare CR', `GET / HTTP/1.1${CRLF}${HOST}\r\r${SMUGGLED}`, [400], true, { upstream: 0 });

// --- limits ---------------------------------------------------------------------------------------
add('limits', 'one header over 16 KiB: 431', get('/', [`X-Big: ${'a'.repeat(17 * 1024)}`]), [431], true, { upstream: 0, chunkBytes: 64 });
add(
  'limits',
  'headers adding up to over 16 KiB: 431',
  get(
    '/',
    Array.from({ length: 40 }, (_, i) => `X-H${i}: ${'b'.repeat(440)}`),
  ),
  [431],
  true,
  { upstream: 0, chunkBytes: 64 },
);
add(
  'limits',
  "headers over 24 KiB, past Node's own limit: 431",
  get(
    '/',
    Array.from({ length: 60 }, (_, i) => `X-H${i}: ${'b'.repeat(440)}`),
  ),
  [431],
  true,
  { upstream: 0, chunkBytes: 64 },
);
add(
  'limits',
  '201 header fields: 431',
  get(
    '/',
    Array.from({ length: 200 }, (_, i) => `X-H${i}: v`),
  ),
  [431],
  true,
  { upstream: 0, chunkBytes: 16 },
);
add('limits', 'a request line over 8 KiB: 414', get(`/${'a'.repeat(8 * 1024)}`), [414], true, { upstream: 0, chunkBytes: 64 });
add('limits', 'a request line of 20 KiB: 414', get(`/${'a'.repeat(20 * 1024)}`), [414], true, { upstream: 0, chunkBytes: 64 });
add('limits', 'a request line of 40 KiB sent at once: 414', get(`/${'a'.repeat(40 * 1024)}`), [414], true, { upstream: 0, chunkBytes: 64 * 1024 });
add('limits', 'a request line of 40 KiB sent in pieces: 414 or 431', get(`/${'a'.repeat(40 * 1024)}`), [[414, 431]], true, { upstream: 0, chunkBytes: 64 });
add('limits', 'a request line just under 8 KiB passes', get(`/${'a'.repeat(8 * 1024 - 20)}`), [200], false, { chunkBytes: 64 });

// --- request line and target ----------------------------------------------------------------------
for (const [name, line] of [
  ['HTTP/0.9 request line', 'GET /'],
  ['lower-case method', 'get / HTTP/1.1'],
  ['unknown method', 'FOO / HTTP/1.1'],
  ['method with a digit', 'G3T / HTTP/1.1'],
  ['a tab instead of a space', 'GET\t/ HTTP/1.1'],
  ['lower-case protocol', 'GET / http/1.1'],
  ['HTTP/1.1 with extra words', 'GET / HTTP/1.1 extra'],
  ['HTTP/1.10', 'GET / HTTP/1.10'],
  ['HTTP/1 without a minor version', 'GET / HTTP/1'],
  ['a NUL in the target', 'GET /a\x00b HTTP/1.1'],
  ['a space in the target', 'GET /a b HTTP/1.1'],
  ['a bare CR in the target', 'GET /a\rb HTTP/1.1'],
  ['a DEL in the target', 'GET /a\x7fb HTTP/1.1'],
  ['a request line ending with a bare CR', 'GET / HTTP/1.1\r'],
  ['asterisk-form on GET', 'GET * HTTP/1.1'],
  ['asterisk-form on OPTIONS', 'OPTIONS * HTTP/1.1'],
  ['a target that is not a path', 'GET abc HTTP/1.1'],
  ['absolute-form whose host differs from Host', 'GET http://evil.example/x HTTP/1.1'],
  ['absolute-form with userinfo', 'GET http://user@app.test/x HTTP/1.1'],
  ['absolute-form with a fragment in the authority', 'GET http://app.test#@evil.example/x HTTP/1.1'],
  ['absolute-form with another scheme', 'GET ftp://app.test/x HTTP/1.1'],
  ['absolute-form with an empty authority', 'GET http:///x HTTP/1.1'],
  ['the HTTP/2 preface', 'PRI * HTTP/2.0'],
] as const) {
  add('request-line', name, req(line) + SMUGGLED, [400], true, { upstream: 0 });
}
add('request-line', 'HTTP/2.0 on an HTTP/1 connection: 505', req('GET / HTTP/2.0') + SMUGGLED, [505], true, { upstream: 0 });
add('request-line', 'HTTP/1.9: 505 or 400', req('GET / HTTP/1.9') + SMUGGLED, [[400, 505]], true, { upstream: 0 });
add(
  'request-line',
  'two spaces after the method are tolerated and the request re-framed',
  req('GET  /two-spaces HTTP/1.1') + get('/second'),
  [[200, 400], 200],
  false,
  { upstream: 'any' },
);
add('request-line', 'absolute-form matching Host is forwarded in origin form', req('GET http://app.test/abs?q=1 HTTP/1.1'), [200], false);
add('request-line', 'absolute-form matching Host in another case', req('GET HTTP://APP.TEST/abs HTTP/1.1'), [200], false);
add('request-line', 'CONNECT is not proxied', req('CONNECT app.test:443 HTTP/1.1') + SMUGGLED, [400], true, { upstream: 0 });
add('request-line', 'a TLS ClientHello on the HTTP port', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', [400], true, { upstream: 0 });
add('request-line', 'binary noise', '\x00\x01\x02\xff\xfe\r\n\r\n', [400], true, { upstream: 0 });

// --- Host and forwarding headers -------------------------------------------------------------------
add('host', 'HTTP/1.1 without Host', req('GET / HTTP/1.1', []) + SMUGGLED, [400], true, { upstream: 0 });
add('host', 'two Host headers', req('GET / HTTP/1.1', [HOST, 'Host: evil.example']) + SMUGGLED, [400], true, { upstream: 0 });
add('host', 'two Host headers with the same value', req('GET / HTTP/1.1', [HOST, HOST]) + SMUGGLED, [400], true, { upstream: 0 });
add('host', 'Host with a space inside', req('GET / HTTP/1.1', ['Host: app test']), [[200, 400]], false, { upstream: 'any' });
add('host', 'spoofed X-Forwarded-For is replaced', get('/', ['X-Forwarded-For: 6.6.6.6']), [200], false);
add('host', 'spoofed X-Forwarded-For twice is replaced', get('/', ['X-Forwarded-For: 6.6.6.6', 'X-Forwarded-For: 6.6.6.6, 6.6.6.6']), [200], false);
add('host', 'spoofed X-Forwarded-Host is replaced', get('/', ['X-Forwarded-Host: evil.example']), [200], false);
add('host', 'spoofed Forwarded is dropped', get('/', ['Forwarded: for=6.6.6.6;host=evil.example']), [200], false);
add(
  'host',
  'Connection naming X-Forwarded-For cannot remove the real one',
  get('/', ['Connection: X-Forwarded-For', 'X-Forwarded-For: 6.6.6.6']),
  [200],
  false,
);

// --- hop-by-hop headers -----------------------------------------------------------------------------
add('hop-by-hop', 'a header named in Connection is dropped', get('/', ['Connection: X-Hop', 'X-Hop: secret']), [200], false);
add('hop-by-hop', 'a header named in Connection before it appears', get('/', ['X-Hop: secret', 'Connection: keep-alive, x-hop']), [200], false);
add('hop-by-hop', 'Connection listed twice', get('/', ['Connection: keep-alive', 'Connection: X-Hop', 'X-Hop: 1']), [200], false);
add(
  'hop-by-hop',
  'Keep-Alive, Proxy-Connection, TE and Trailer are dropped',
  get('/', ['Keep-Alive: timeout=5', 'Proxy-Connection: keep-alive', 'TE: trailers', 'Trailer: X-T']),
  [200],
  false,
);
add('hop-by-hop', 'Proxy-Authorization is dropped', get('/', ['Proxy-Authorization: Basic YTpi']), [200], false);
add('hop-by-hop', 'Upgrade without Connection: upgrade is a plain request without Upgrade', get('/', ['Upgrade: websocket']), [200], false);

// --- upgrades ------------------------------------------------------------------------------------------
add(
  'upgrade',
  'h2c upgrade is refused',
  get('/', ['Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA']) + SMUGGLED,
  [400],
  true,
  { upstream: 0 },
);
add('upgrade', 'upgrade to an unknown protocol is refused', get('/', ['Connection: Upgrade', 'Upgrade: foo/1']) + SMUGGLED, [400], true, { upstream: 0 });
add(
  'upgrade',
  'websocket upgrade on POST is refused',
  req('POST / HTTP/1.1', [HOST, 'Connection: Upgrade', 'Upgrade: websocket', 'Content-Length: 0']) + SMUGGLED,
  [400],
  true,
  { upstream: 0 },
);
add(
  'upgrade',
  'websocket upgrade over HTTP/1.0 is refused',
  req('GET / HTTP/1.0', [HOST, 'Connection: Upgrade', 'Upgrade: websocket']) + SMUGGLED,
  [[400, 200]],
  true,
  { upstream: 'any' },
);
add(
  'upgrade',
  'websocket upgrade with two Host headers is refused',
  req('GET / HTTP/1.1', [HOST, HOST, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']),
  [400],
  true,
  { upstream: 0 },
);
add(
  'upgrade',
  'websocket upgrade with a mismatched absolute-form target is refused',
  req('GET http://evil.example/ws HTTP/1.1', [
    HOST,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
  ]),
  [400],
  true,
  { upstream: 0 },
);

// --- pipelining after an error: nothing queued behind it is processed -----------------------------
const AFTER_ERROR = `GET /after-error HTTP/1.1${CRLF}${HOST}${CRLF}${CRLF}`;
add('pipelining', 'after two Host headers', req('GET / HTTP/1.1', [HOST, HOST]) + AFTER_ERROR, [400], true, { upstream: 0 });
add('pipelining', 'after a request line over 8 KiB', get(`/${'a'.repeat(9000)}`) + AFTER_ERROR, [414], true, { upstream: 0, chunkBytes: 64 });
add('pipelining', 'after a 413', post([`Content-Length: ${TEST_MAX_BODY_BYTES + 1}`], '') + AFTER_ERROR, [413], true, { upstream: 0 });
add('pipelining', 'after a bad absolute-form target', req('GET http://evil.example/ HTTP/1.1') + AFTER_ERROR, [400], true, { upstream: 0 });
add(
  'pipelining',
  'after 201 header fields',
  get(
    '/',
    Array.from({ length: 200 }, (_, i) => `X-H${i}: v`),
  ) + AFTER_ERROR,
  [431],
  true,
  { upstream: 0, chunkBytes: 16 },
);
add('pipelining', 'after a parser error', get('/', ['X Bad: 1']) + AFTER_ERROR, [400], true, { upstream: 0 });
add('pipelining', 'after a refused upgrade', get('/', ['Connection: Upgrade', 'Upgrade: h2c']) + AFTER_ERROR, [400], true, { upstream: 0 });
add('pipelining', 'a valid request, then a bad one, then one more', get('/first') + req('GET / HTTP/1.1', [HOST, HOST]) + AFTER_ERROR, [200, 400], true, {
  upstream: 1,
});
add(
  'pipelining',
  'twenty pipelined GETs',
  Array.from({ length: 20 }, (_, i) => get(`/p${i}`)).join(''),
  Array.from({ length: 20 }, () => 200),
  false,
  { chunkBytes: 8 },
);

export const HOSTILE_REQUESTS: readonly HostileVector[] = vectors;
