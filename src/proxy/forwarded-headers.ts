import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

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
 * Request headers the proxy drops besides the hop-by-hop ones: the X-Forwarded-* set and
 * `Forwarded` (the proxy writes its own from the socket; client values are spoofable),
 * `Expect` (Node already answered `100-continue`; the upstream pool cannot send it) and the
 * mirror marker (only the proxy may mark a request as a copy).
 */
const DROPPED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP_HEADERS,
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'expect',
  MIRROR_HEADER,
]);

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

/**
 * Headers to send upstream for a client request, as a flat `[name, value, …]` list with the
 * client's spelling: hop-by-hop headers and those named in `Connection` removed,
 * X-Forwarded-For / -Proto / -Host overwritten from the socket and the `Host` header.
 * `Host` itself is kept as the client sent it.
 */
export function upstreamRequestHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const listed = connectionListedHeaders(req.headers.connection);
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (DROPPED_REQUEST_HEADERS.has(lower) || (listed !== undefined && listed.includes(lower))) continue;
    headers.push(name, raw[i + 1]!);
  }
  const address = req.socket.remoteAddress;
  if (address !== undefined) headers.push('x-forwarded-for', address);
  headers.push('x-forwarded-proto', 'http');
  const host = req.headers.host;
  if (host !== undefined) headers.push('x-forwarded-host', host);
  return headers;
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
