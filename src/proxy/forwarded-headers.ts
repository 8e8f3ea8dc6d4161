import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { mayHoldOwnCookie, withoutOwnCookies } from './own-cookies.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1 plus the usual non-standard ones); never forwarded. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/** Request header that marks a mirrored copy, so the mirror revision can tell copies from real traffic. */
export const MIRROR_HEADER = 'x-cutover-mirror';

/**
 * Request headers the proxy writes itself from the socket (a client's values are spoofable),
 * unless the peer is a trusted proxy: then they are kept and the peer's address is appended.
 * `X-Real-IP` is only kept from a trusted proxy; the proxy does not write one.
 */
const FORWARDING_HEADERS: ReadonlySet<string> = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-real-ip']);

/**
 * Request headers the proxy always drops: hop-by-hop ones, `Expect` (Node already answered
 * `100-continue`; the upstream pool cannot send it), `HTTP2-Settings` (only meaningful with
 * an h2c upgrade, which the proxy never forwards) and the mirror marker (only the proxy may
 * mark a request as a copy).
 */
const DROPPED_REQUEST_HEADERS: ReadonlySet<string> = new Set([...HOP_BY_HOP_HEADERS, 'expect', 'http2-settings', MIRROR_HEADER]);

/**
 * The lower-cased header names listed in a `Connection` header, which are hop-by-hop too.
 * Returns undefined when there are none (the common case: `keep-alive`, `close`, `upgrade`
 * are hop-by-hop already).
 */
export function connectionListedHeaders(connection: string | string[] | undefined): string[] | undefined {
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return undefined;
  const value = typeof connection === 'string' ? connection : connection.join(',');
  let listed: string[] | undefined;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || HOP_BY_HOP_HEADERS.has(name) || name === 'close') continue;
    (listed ??= []).push(name);
  }
  return listed;
}

/** What the proxy learns from a request's headers in its one pass over them. */
export interface SanitizedRequestHead {
  /** Headers to send upstream, flat `[name, value, …]`, with the client's spelling and order. */
  headers: string[];
  /** The `Host` header (the first one). */
  host: string | undefined;
  /** How many `Host` headers the request had; more than one is refused. */
  hostCount: number;
  /** Bytes of the header section as sent (`name: value\r\n` per header). */
  headerBytes: number;
  /** The `Content-Length` header (the parser has already refused duplicates and bad values). */
  contentLength: string | undefined;
  /** The request has a `Transfer-Encoding` (the parser accepts only chunked last). */
  hasTransferEncoding: boolean;
  /**
   * A header that some servers read as `Content-Length` or `Transfer-Encoding` although it is
   * not (`Content_Length`, `transfer_encoding`: CGI-style servers turn `_` into `-`): a
   * desync waiting to happen, so the request is refused.
   */
  hasLookalikeFraming: boolean;
}

/**
 * Headers to send upstream for a client request, from its raw header list: hop-by-hop
 * headers and those named in `Connection` removed; `X-Forwarded-For` / `-Proto` / `-Host` and
 * `Forwarded` replaced from the socket and the `Host` header, unless the peer is a trusted
 * proxy, in which case they are kept and the peer's address is appended to `X-Forwarded-For`.
 * `Host` itself is kept as the client sent it. Pure: property-tested.
 *
 * @example
 * sanitizeRequestHead(['Host', 'a', 'X-Forwarded-For', '6.6.6.6'], '10.0.0.7', false).headers;
 * // ['Host', 'a', 'x-forwarded-for', '10.0.0.7', 'x-forwarded-proto', 'http', 'x-forwarded-host', 'a']
 */
export function sanitizeRequestHead(
  raw: readonly string[],
  remoteAddress: string | undefined,
  isTrustedPeer: boolean,
  proto: 'http' | 'https' = 'http',
): SanitizedRequestHead {
  const headers: string[] = [];
  let host: string | undefined;
  let hostCount = 0;
  let headerBytes = 0;
  let connection: string | undefined;
  let forwardedFor: string | undefined;
  let hasProto = false;
  let hasForwardedHost = false;
  let contentLength: string | undefined;
  let hasTransferEncoding = false;
  let hasLookalikeFraming = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    headerBytes += name.length + value.length + 4;
    const lower = name.toLowerCase();
    if (lower === 'host') {
      if (hostCount++ === 0) host = value;
    } else if (lower === 'content-length') {
      contentLength = value;
    } else if (lower === 'cookie' && mayHoldOwnCookie(value)) {
      // cutover's own cookies (the dashboard's session) are never an app's business.
      const kept = withoutOwnCookies(value);
      if (kept !== undefined) headers.push(name, kept);
      continue;
    } else if (DROPPED_REQUEST_HEADERS.has(lower)) {
      if (lower === 'connection') connection = connection === undefined ? value : `${connection},${value}`;
      else if (lower === 'transfer-encoding') hasTransferEncoding = true;
      continue;
    } else if (FORWARDING_HEADERS.has(lower)) {
      if (!isTrustedPeer) continue;
      if (lower === 'x-forwarded-for') {
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      }
      if (lower === 'x-forwarded-proto') hasProto = true;
      else if (lower === 'x-forwarded-host') hasForwardedHost = true;
    }
    if ((lower.length === 14 || lower.length === 17) && lower.includes('_')) {
      const dashed = lower.replaceAll('_', '-');
      if (dashed === 'content-length' || dashed === 'transfer-encoding') hasLookalikeFraming = true;
    }
    headers.push(name, value);
  }
  const listed = connectionListedHeaders(connection);
  const sent = listed === undefined ? headers : withoutNames(headers, listed);
  if (remoteAddress !== undefined) sent.push('x-forwarded-for', forwardedFor === undefined ? remoteAddress : `${forwardedFor}, ${remoteAddress}`);
  else if (forwardedFor !== undefined) sent.push('x-forwarded-for', forwardedFor);
  if (!hasProto) sent.push('x-forwarded-proto', proto);
  if (host !== undefined && !hasForwardedHost) sent.push('x-forwarded-host', host);
  return { headers: sent, host, hostCount, headerBytes, contentLength, hasTransferEncoding, hasLookalikeFraming };
}

/** The same, for an `IncomingMessage` (WebSocket upgrades), with an untrusted peer. */
export function upstreamRequestHeaders(req: IncomingMessage, isTrustedPeer = false): string[] {
  return sanitizeRequestHead(req.rawHeaders, req.socket.remoteAddress, isTrustedPeer).headers;
}

function withoutNames(headers: string[], names: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.includes(headers[i]!.toLowerCase())) kept.push(headers[i]!, headers[i + 1]!);
  }
  return kept;
}

/**
 * Headers to send to the client for an upstream response (as parsed by undici: lower-case
 * names, repeated headers as arrays), as a flat list for `res.writeHead`, without hop-by-hop
 * headers and those named in the upstream's `Connection`.
 */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): (string | string[])[] {
  const listed = connectionListedHeaders(upstream.connection);
  const headers: (string | string[])[] = [];
  for (const name in upstream) {
    if (HOP_BY_HOP_HEADERS.has(name) || (listed !== undefined && listed.includes(name))) continue;
    const value = upstream[name];
    if (value !== undefined) headers.push(name, value);
  }
  return headers;
}

/**
 * The same from the raw header list undici reports (`[name, value, …]` as bytes), keeping the
 * upstream's spelling; repeated headers stay repeated. Used on the hot path: no header object
 * is built.
 */
export function clientResponseHeadersFromRaw(raw: readonly Buffer[]): string[] {
  const headers: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP_HEADERS.has(lower)) {
      if (lower === 'connection') connection = connection === undefined ? raw[i + 1]!.toString('latin1') : `${connection},${raw[i + 1]!.toString('latin1')}`;
      continue;
    }
    headers.push(name, raw[i + 1]!.toString('latin1'));
  }
  const listed = connectionListedHeaders(connection);
  return listed === undefined ? headers : withoutNames(headers, listed);
}

/** True for an event stream of unknown length (a response with a Content-Length is not cut short). */
export function isEventStream(headers: readonly string[]): boolean {
  let isStream = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 12 && name.toLowerCase() === 'content-type') isStream = headers[i + 1]!.trimStart().toLowerCase().startsWith('text/event-stream');
    else if (name.length === 14 && name.toLowerCase() === 'content-length') return false;
  }
  return isStream;
}
