import type { OutgoingHttpHeaders } from 'node:http2';

/**
 * Headers HTTP/2 forbids (RFC 9113 §8.2.2) that an HTTP/1.1 response head may still carry
 * after the fast lane's parser (it writes `transfer-encoding: chunked` back for HTTP/1.1
 * clients); Node's HTTP/2 layer would refuse the whole response for one of them.
 */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

/**
 * The HTTP/2 response headers for an upstream response head as the fast lane's parser rewrote
 * it for an HTTP/1.1 client (`clientHead`: status line, then `name: value` lines with the
 * upstream's spelling, hop-by-hop headers already removed): names lower-cased, repeated headers
 * as arrays, connection-specific headers dropped, `extra` (`[name, value, …]`, lower-case) added
 * after the upstream's own. No `date` is added: the upstream's is passed on, as the strict lane
 * does. Pure.
 *
 * @example
 * h2ResponseHeaders('HTTP/1.1 200 OK\r\nSet-Cookie: a\r\nset-cookie: b\r\n', 200, undefined);
 * // { ':status': 200, 'set-cookie': ['a', 'b'] }
 */
export function h2ResponseHeaders(clientHead: string, status: number, extra: readonly string[] | undefined): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':status': status };
  let lineStart = clientHead.indexOf('\r\n') + 2;
  while (lineStart > 1 && lineStart < clientHead.length) {
    let lineEnd = clientHead.indexOf('\r\n', lineStart);
    if (lineEnd === -1) lineEnd = clientHead.length;
    const colon = clientHead.indexOf(':', lineStart);
    if (colon !== -1 && colon < lineEnd) {
      const name = clientHead.slice(lineStart, colon).toLowerCase();
      if (!CONNECTION_SPECIFIC.has(name)) add(headers, name, clientHead.slice(colon + 1, lineEnd).trim());
    }
    lineStart = lineEnd + 2;
  }
  if (extra !== undefined) {
    for (let i = 0; i < extra.length; i += 2) add(headers, extra[i]!, extra[i + 1]!);
  }
  return headers;
}

function add(headers: OutgoingHttpHeaders, name: string, value: string): void {
  const previous = headers[name];
  if (previous === undefined) headers[name] = value;
  else if (Array.isArray(previous)) previous.push(value);
  else headers[name] = [String(previous), value];
}
