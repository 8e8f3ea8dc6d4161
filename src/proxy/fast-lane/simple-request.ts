import {
  ASCII_VALUE_BYTES,
  HEAD_ENDED,
  HeaderNames,
  LINE_READ,
  SP,
  equalsIgnoringCase,
  hasBytesAt,
  lowerBytes,
  parseDigits,
  readHeaderLine,
} from './http-bytes.js';
import type { HeaderLine } from './http-bytes.js';
import { mayHoldOwnCookie } from '../own-cookies.js';

/** The limits a request must be within for the fast lane to take it (the strict lane answers the rest). */
export interface SimpleRequestLimits {
  readonly maxRequestLineBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxHeaderCount: number;
  readonly maxBodyBytes: number;
  readonly retryBodyBufferBytes: number;
}

/** A complete, plain HTTP/1.1 request found at the start of a client's buffered bytes. */
export interface SimpleRequest {
  readonly method: string;
  /** The request target as sent (origin form: path and query). */
  readonly target: string;
  /** The Host header's value as sent. */
  readonly host: string;
  /** Bytes of the whole request, head and body. */
  readonly length: number;
  /** The head to send upstream (latin1), final empty line included. */
  readonly upstreamHead: string;
  /** The body (a view into the client's buffer), or undefined when there is none. */
  readonly body: Buffer | undefined;
  /** The client sent `Connection: close`: the connection ends after this exchange. */
  readonly wantsClose: boolean;
}

/** The methods the fast lane takes (case-sensitive). */
const METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** The method at `[start, end)` of `buf` when the fast lane takes it: a constant, no string made per request. */
function methodAt(buf: Buffer, start: number, end: number): string | undefined {
  for (const method of METHODS) {
    if (method.length !== end - start) continue;
    let i = 0;
    while (i < method.length && buf[start + i] === method.charCodeAt(i)) i++;
    if (i === method.length) return method;
  }
  return undefined;
}

const CLOSE = lowerBytes('close');
const KEEP_ALIVE = lowerBytes('keep-alive');

/** What the fast lane does with a request header, by lower-case name; absent names are kept. */
const enum HeaderRole {
  Host = 1,
  ContentLength,
  Connection,
  /** Kept, unless it holds one of cutover's own cookies: the strict lane removes those. */
  Cookie,
  /** Hop-by-hop, the mirror marker, or a forwarding header the proxy writes itself: not forwarded. */
  Drop,
  /** Needs the strict lane (framing, upgrades, `Expect`): the request is not simple. */
  NotSimple,
}

const HEADER_ROLES = new HeaderNames<HeaderRole>([
  ['host', HeaderRole.Host],
  ['content-length', HeaderRole.ContentLength],
  ['connection', HeaderRole.Connection],
  ['cookie', HeaderRole.Cookie],
  ['keep-alive', HeaderRole.Drop],
  ['proxy-connection', HeaderRole.Drop],
  ['te', HeaderRole.Drop],
  ['trailer', HeaderRole.Drop],
  ['proxy-authorization', HeaderRole.Drop],
  ['proxy-authenticate', HeaderRole.Drop],
  ['x-cutover-mirror', HeaderRole.Drop],
  ['x-forwarded-for', HeaderRole.Drop],
  ['x-forwarded-proto', HeaderRole.Drop],
  ['x-forwarded-host', HeaderRole.Drop],
  ['forwarded', HeaderRole.Drop],
  ['x-real-ip', HeaderRole.Drop],
  ['transfer-encoding', HeaderRole.NotSimple],
  ['upgrade', HeaderRole.NotSimple],
  ['expect', HeaderRole.NotSimple],
  ['http2-settings', HeaderRole.NotSimple],
  // Look-alikes of framing headers (CGI-style servers read `_` as `-`): the strict lane refuses them.
  ['content_length', HeaderRole.NotSimple],
  ['transfer_encoding', HeaderRole.NotSimple],
] as const);

const HTTP_1_1 = Buffer.from(' HTTP/1.1\r\n', 'latin1');

/** Reused for every header line (the reader is synchronous). */
const SCRATCH_LINE: HeaderLine = { nameEnd: 0, valueStart: 0, valueEnd: 0, next: 0 };

/**
 * Reads the request at `start` of `buf` if it is simple enough for the fast lane, and builds
 * the head to send upstream. Simple means: complete in `buf` (head and body); a known method;
 * an origin-form target of visible ASCII; HTTP/1.1; header lines of the strict form
 * `name: value` with token names, ASCII values and CRLF endings (no obs-fold, no bare CR or
 * LF); exactly one `Host`; at most one `Content-Length` of digits, small enough to buffer and
 * within the body cap; no `Transfer-Encoding`, `Upgrade`, `Expect` or framing look-alikes;
 * `Connection` only `keep-alive` or `close`; everything within the size limits.
 *
 * Returns undefined for anything else, incomplete requests included: the caller then hands the
 * connection to Node's strict parser, which answers malformed and hostile requests exactly as
 * without the fast lane. The upstream head keeps the client's header lines byte for byte,
 * minus hop-by-hop, mirror and forwarding headers, plus `X-Forwarded-For`/`-Proto`/`-Host`
 * from the socket and `forwardedProto` (the caller takes trusted proxies to the strict lane,
 * which keeps theirs).
 * Pure: tested exhaustively and against the strict lane's sanitising.
 */
export function parseSimpleRequest(
  buf: Buffer,
  start: number,
  remoteAddress: string | undefined,
  limits: SimpleRequestLimits,
  forwardedProto: 'http' | 'https' = 'http',
): SimpleRequest | undefined {
  const end = buf.length;
  let i = start;
  while (i < end && i - start < 8 && buf[i] !== SP) i++;
  if (i >= end || buf[i] !== SP) return undefined;
  const method = methodAt(buf, start, i);
  if (method === undefined) return undefined;
  const targetStart = ++i;
  if (buf[i] !== 47 /* / */) return undefined;
  while (i < end) {
    const code = buf[i]!;
    if (code <= SP || code >= 127) break;
    i++;
  }
  const targetEnd = i;
  if (!hasBytesAt(buf, i, HTTP_1_1)) return undefined;
  // Measured as the strict lane does: METHOD SP target SP HTTP/1.1.
  if (method.length + (targetEnd - targetStart) + 10 > limits.maxRequestLineBytes) return undefined;
  i += HTTP_1_1.length;

  let out = '';
  let keptFrom = start;
  let host: string | undefined;
  let hostCount = 0;
  let contentLength = -1;
  let wantsClose = false;
  let headerCount = 0;
  let headerBytes = 0;
  const line = SCRATCH_LINE;
  for (;;) {
    const lineStart = i;
    const read = readHeaderLine(buf, i, end, ASCII_VALUE_BYTES, line);
    if (read === HEAD_ENDED) break;
    if (read !== LINE_READ) return undefined;
    const { nameEnd, valueStart, valueEnd } = line;
    i = line.next;
    headerCount++;
    headerBytes += nameEnd - lineStart + (valueEnd - valueStart) + 4;
    if (headerCount > limits.maxHeaderCount || headerBytes > limits.maxHeaderBytes) return undefined;
    const role = HEADER_ROLES.lookup(buf, lineStart, nameEnd);
    if (role === undefined) continue;
    switch (role) {
      case HeaderRole.Host:
        hostCount++;
        host = buf.toString('latin1', valueStart, valueEnd);
        continue;
      case HeaderRole.ContentLength:
        if (contentLength !== -1) return undefined;
        contentLength = parseDigits(buf, valueStart, valueEnd);
        if (contentLength === -1) return undefined;
        continue;
      case HeaderRole.Connection:
        if (equalsIgnoringCase(buf, valueStart, valueEnd, CLOSE)) wantsClose = true;
        else if (!equalsIgnoringCase(buf, valueStart, valueEnd, KEEP_ALIVE)) return undefined;
        break;
      case HeaderRole.Cookie:
        if (mayHoldOwnCookie(buf.toString('latin1', valueStart, valueEnd))) return undefined;
        continue;
      case HeaderRole.NotSimple:
        return undefined;
    }
    // Drop this line: keep what came before it.
    out += buf.toString('latin1', keptFrom, lineStart);
    keptFrom = i;
  }
  if (hostCount !== 1 || host === undefined) return undefined;
  const headEnd = line.next;
  let body: Buffer | undefined;
  let length = headEnd - start;
  if (contentLength > 0) {
    if (contentLength > limits.retryBodyBufferBytes || (limits.maxBodyBytes > 0 && contentLength > limits.maxBodyBytes)) return undefined;
    if (end - headEnd < contentLength) return undefined;
    body = buf.subarray(headEnd, headEnd + contentLength);
    length += contentLength;
  }
  out += buf.toString('latin1', keptFrom, i);
  if (remoteAddress !== undefined) out += `x-forwarded-for: ${remoteAddress}\r\n`;
  out += `x-forwarded-proto: ${forwardedProto}\r\nx-forwarded-host: ${host}\r\n\r\n`;
  return { method, target: buf.toString('latin1', targetStart, targetEnd), host, length, upstreamHead: out, body, wantsClose };
}
