import { STATUS_CODES } from 'node:http';
import {
  CR,
  HEAD_ENDED,
  HeaderNames,
  LF,
  LINE_INCOMPLETE,
  LINE_MALFORMED,
  SP,
  VALUE_BYTES,
  equalsIgnoringCase,
  hasBytesAt,
  lowerBytes,
  parseDigits,
  readHeaderLine,
  startsWithIgnoringCase,
} from './http-bytes.js';
import type { HeaderLine } from './http-bytes.js';

/** How the end of a response body is known. */
export const enum Framing {
  /** No body (HEAD, 204, 304). */
  None = 0,
  /** `Content-Length` bytes. */
  Length,
  /** `Transfer-Encoding: chunked`, passed through as it is. */
  Chunked,
  /** Until the upstream closes the connection (no length given). */
  UntilClose,
}

/** An upstream response head, read and rewritten for the client. */
export interface UpstreamResponseHead {
  readonly status: number;
  /** Bytes of the head in the upstream's buffer, final empty line included. */
  readonly length: number;
  /** Status line and header lines for the client (HTTP/1.1, hop-by-hop headers removed), without the final empty line. */
  readonly clientHead: string;
  readonly framing: Framing;
  /** Body bytes when `framing` is `Length`. */
  readonly contentLength: number;
  /** The upstream keeps the connection open for another request. */
  readonly isReusable: boolean;
  /** The upstream's `Keep-Alive: timeout=N`, in milliseconds; undefined without one. */
  readonly keepAliveMs: number | undefined;
  /** `Content-Type: text/event-stream`: a stream the proxy may have to end early. */
  readonly isEventStream: boolean;
}

/** Reused for every header line (the reader is synchronous). */
const SCRATCH_LINE: HeaderLine = { nameEnd: 0, valueStart: 0, valueEnd: 0, next: 0 };

/** The head is not all there yet. */
export const INCOMPLETE = 0;
/** The head breaks HTTP/1.1 framing rules: the response cannot be forwarded (502). */
export const MALFORMED = 1;

/** What the parser does with a response header, by name; absent names pass through. */
const enum HeaderRole {
  ContentType = 1,
  ContentLength,
  TransferEncoding,
  Connection,
  KeepAlive,
  /** Hop-by-hop: the client never sees it (RFC 9110 §7.6.1 and the usual extras). */
  Drop,
}

const HEADER_ROLES = new HeaderNames<HeaderRole>([
  ['content-type', HeaderRole.ContentType],
  ['content-length', HeaderRole.ContentLength],
  ['transfer-encoding', HeaderRole.TransferEncoding],
  ['connection', HeaderRole.Connection],
  ['keep-alive', HeaderRole.KeepAlive],
  ['proxy-connection', HeaderRole.Drop],
  ['te', HeaderRole.Drop],
  ['trailer', HeaderRole.Drop],
  ['upgrade', HeaderRole.Drop],
  ['proxy-authenticate', HeaderRole.Drop],
  ['proxy-authorization', HeaderRole.Drop],
] as const);

/** Case-sensitive, as the status line's protocol name is. */
const HTTP_VERSION = Buffer.from('HTTP/1.', 'latin1');
const EVENT_STREAM = lowerBytes('text/event-stream');
const CHUNKED = lowerBytes('chunked');
const CLOSE = lowerBytes('close');
const KEEP_ALIVE = lowerBytes('keep-alive');

/**
 * Reads an upstream response head at `start` of `buf`. Informational (1xx) heads are returned
 * like others with `Framing.None`; the caller skips them. Strict where framing is at stake:
 * a `Transfer-Encoding` other than `chunked`, both it and `Content-Length`, or two different
 * lengths make the response MALFORMED, as do bare CR/LF, obs-fold and bad header names.
 * `isHeadRequest` tells that the response can carry no body whatever its headers say.
 * `maxBytes` bounds the head: a longer one is MALFORMED. Pure.
 */
export function parseUpstreamResponse(
  buf: Buffer,
  start: number,
  isHeadRequest: boolean,
  maxBytes: number,
): UpstreamResponseHead | typeof INCOMPLETE | typeof MALFORMED {
  const end = Math.min(buf.length, start + maxBytes);
  const incomplete = buf.length - start >= maxBytes ? MALFORMED : INCOMPLETE;
  // HTTP/1.x SP 3DIGIT [SP reason] CRLF
  if (end - start < 14) return incomplete;
  if (!hasBytesAt(buf, start, HTTP_VERSION) || buf[start + 8] !== SP) return MALFORMED;
  const minor = buf[start + 7]! - 48;
  const status = parseDigits(buf, start + 9, start + 12);
  if ((minor !== 0 && minor !== 1) || status < 100) return MALFORMED;
  let i = start + 12;
  const reasonStart = i + 1;
  if (buf[i] === SP) {
    i++;
    while (i < end && VALUE_BYTES[buf[i]!] === 1) i++;
  }
  if (i + 1 >= end) return incomplete;
  if (buf[i] !== CR || buf[i + 1] !== LF) return MALFORMED;
  const reason = i > reasonStart ? buf.toString('latin1', reasonStart, i) : '';
  i += 2;

  let out = `HTTP/1.1 ${status} ${reason || (STATUS_CODES[status] ?? '')}\r\n`;
  let keptFrom = i;
  let contentLength = -1;
  let isChunked = false;
  let isReusable = minor === 1;
  let keepAliveMs: number | undefined;
  let listed: string[] | undefined;
  let isEventStream = false;
  const line = SCRATCH_LINE;
  for (;;) {
    const lineStart = i;
    const read = readHeaderLine(buf, i, end, VALUE_BYTES, line);
    if (read === HEAD_ENDED) break;
    if (read === LINE_INCOMPLETE) return incomplete;
    if (read === LINE_MALFORMED) return MALFORMED;
    const { nameEnd, valueStart, valueEnd } = line;
    i = line.next;
    const role = HEADER_ROLES.lookup(buf, lineStart, nameEnd);
    if (role === undefined) continue;
    if (role === HeaderRole.ContentType) {
      isEventStream = startsWithIgnoringCase(buf, valueStart, valueEnd, EVENT_STREAM);
      continue;
    }
    if (role === HeaderRole.ContentLength) {
      const length = parseDigits(buf, valueStart, valueEnd);
      if (length === -1 || (contentLength !== -1 && contentLength !== length)) return MALFORMED;
      contentLength = length;
    } else if (role === HeaderRole.TransferEncoding) {
      if (isChunked || !equalsIgnoringCase(buf, valueStart, valueEnd, CHUNKED)) return MALFORMED;
      isChunked = true;
    } else if (role === HeaderRole.Connection) {
      // The usual single option without a string; a list goes through the general reading.
      if (equalsIgnoringCase(buf, valueStart, valueEnd, CLOSE)) isReusable = false;
      else if (equalsIgnoringCase(buf, valueStart, valueEnd, KEEP_ALIVE)) {
        if (minor === 0) isReusable = true;
      } else {
        for (const token of buf.toString('latin1', valueStart, valueEnd).toLowerCase().split(',')) {
          const option = token.trim();
          if (option === 'close') isReusable = false;
          else if (option === 'keep-alive') {
            if (minor === 0) isReusable = true;
          } else if (option !== '') (listed ??= []).push(option);
        }
      }
    } else if (role === HeaderRole.KeepAlive) {
      keepAliveMs = keepAliveTimeoutMs(buf.toString('latin1', valueStart, valueEnd)) ?? keepAliveMs;
    }
    out += buf.toString('latin1', keptFrom, lineStart);
    keptFrom = i;
  }
  out += buf.toString('latin1', keptFrom, i);
  if (isChunked && contentLength !== -1) return MALFORMED;

  let framing: Framing;
  if (isHeadRequest || status < 200 || status === 204 || status === 304) framing = Framing.None;
  else if (isChunked) framing = Framing.Chunked;
  else if (contentLength !== -1) framing = Framing.Length;
  else {
    framing = Framing.UntilClose;
    isReusable = false;
  }
  if (framing === Framing.Chunked) out += 'transfer-encoding: chunked\r\n';
  // Content-Length is kept on every response that had one (HEAD and 304 included), once.
  if (contentLength !== -1) out += `content-length: ${contentLength}\r\n`;
  if (listed !== undefined) out = withoutHeaders(out, listed);
  return { status, length: line.next - start, clientHead: out, framing, contentLength: Math.max(contentLength, 0), isReusable, keepAliveMs, isEventStream };
}

/** The last `Keep-Alive` value read, and its timeout: an upstream sends the same one on every response. */
let lastKeepAlive = '';
let lastKeepAliveMs: number | undefined = undefined;

/** `timeout=N` of a `Keep-Alive` header, in milliseconds. */
function keepAliveTimeoutMs(value: string): number | undefined {
  if (value === lastKeepAlive) return lastKeepAliveMs;
  const match = /(?:^|[,;\s])timeout\s*=\s*(\d{1,6})/i.exec(value);
  lastKeepAlive = value;
  lastKeepAliveMs = match === null ? undefined : Number(match[1]) * 1000;
  return lastKeepAliveMs;
}

/** Removes the header lines named in `Connection` from a head (rare: only when the upstream lists some). */
function withoutHeaders(head: string, names: readonly string[]): string {
  const lines = head.split('\r\n');
  const kept = lines.filter((line, index) => index === 0 || line === '' || !names.includes(line.slice(0, line.indexOf(':')).toLowerCase()));
  return kept.join('\r\n');
}
