import type { IncomingMessage } from 'node:http';

/** A request head as the HTTP/1.1 side of the proxy checks and forwards it. */
export interface RequestHead {
  /** `[name, value, …]` without HTTP/2 pseudo-headers. */
  rawHeaders: string[];
  versionMajor: number;
  versionMinor: number;
}

/**
 * True for a request that arrived over HTTP/2 (Node's compatibility API). Not its version: an
 * HTTP/1 connection may say `HTTP/2.0` in its request line, and that one is refused (505), never
 * turned into an HTTP/1.1 request.
 */
export function isHttp2Request(req: IncomingMessage): boolean {
  // Node's compatibility request carries its HTTP/2 stream; an HTTP/1 IncomingMessage has none.
  // Not `instanceof Http2ServerRequest`: that would load node:http2 into every proxy worker.
  return (req as { stream?: unknown }).stream !== undefined;
}

/**
 * The head of a request as HTTP/1.1 sees it. An HTTP/1.x request is returned as it is. An
 * HTTP/2 one becomes HTTP/1.1: pseudo-headers dropped, `:authority` becomes `Host` (a `host`
 * header that disagrees with it is kept as a second Host, which the proxy refuses with 400),
 * and the cookie fields HTTP/2 may split are joined into one (RFC 9113 §8.2.3). Connection-specific
 * headers never get here: Node's HTTP/2 layer refuses them with a stream error.
 *
 * @example
 * requestHeadOf(h2req).rawHeaders; // [':authority' 'a.com' → 'host', 'a.com', 'accept', '*\/*']
 */
export function requestHeadOf(req: IncomingMessage): RequestHead {
  if (!isHttp2Request(req)) return { rawHeaders: req.rawHeaders, versionMajor: req.httpVersionMajor, versionMinor: req.httpVersionMinor };
  return { rawHeaders: http1HeadersOfH2(req.rawHeaders), versionMajor: 1, versionMinor: 1 };
}

/** The raw headers of an HTTP/2 request (pseudo-headers included) as HTTP/1.1 sees them: see `requestHeadOf`. Pure. */
export function http1HeadersOfH2(raw: readonly string[]): string[] {
  const rawHeaders: string[] = [];
  let authority: string | undefined;
  let host: string | undefined;
  let cookies: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 0x3a /* : */) {
      if (name === ':authority') authority = value;
      continue;
    }
    if (name === 'host') {
      host ??= value;
      continue;
    }
    if (name === 'cookie') {
      (cookies ??= []).push(value);
      continue;
    }
    rawHeaders.push(name, value);
  }
  // Written out rather than with flatMap and spread: this runs for every HTTP/2 request, and
  // those cost 1-2 µs per request in the stream lane (docs/benchmarks.md, the floor of http2).
  const head: string[] = [];
  if (authority !== undefined) head.push('host', authority);
  if (host !== undefined && host !== authority) head.push('host', host);
  if (cookies !== undefined) head.push('cookie', cookies.length === 1 ? cookies[0]! : cookies.join('; '));
  for (let i = 0; i < rawHeaders.length; i++) head.push(rawHeaders[i]!);
  return head;
}
