import type { SanitizedRequestHead } from './forwarded-headers.js';
import type { ProxyOptions } from './proxy-options.js';
import { originFormTarget } from './request-target.js';

/** Why the proxy refuses a request head, as the status and text it answers with. */
export interface RefusedHead {
  status: 400 | 414 | 431 | 505;
  message: string;
}

/**
 * Checks a parsed request head against the limits: the request line (414), the header
 * section's size and field count (431), the HTTP version (only 1.0 and 1.1: HTTP/0.9 400,
 * 2.0 and later 505), a missing `Host` on HTTP/1.1, several `Host` headers, a header that looks
 * like a framing header, or an absolute-form target that disagrees with `Host` (400). Returns
 * the origin-form target to forward, or the refusal.
 */
export function checkRequestHead(
  options: Pick<ProxyOptions, 'maxRequestLineBytes' | 'maxHeaderBytes' | 'maxHeaderCount'>,
  method: string,
  url: string,
  versionMajor: number,
  versionMinor: number,
  rawHeaderCount: number,
  head: SanitizedRequestHead,
): string | RefusedHead {
  if (versionMajor !== 1 || versionMinor > 1) {
    return versionMajor >= 2 ? { status: 505, message: 'http version not supported' } : { status: 400, message: 'bad request' };
  }
  // METHOD SP target SP HTTP/1.1
  if (method.length + url.length + 10 > options.maxRequestLineBytes) return { status: 414, message: 'request line too long' };
  if (head.headerBytes > options.maxHeaderBytes || rawHeaderCount > options.maxHeaderCount) {
    return { status: 431, message: 'request header fields too large' };
  }
  const isHostValid = head.hostCount === 1 || (head.hostCount === 0 && versionMinor === 0);
  const path = isHostValid && !head.hasLookalikeFraming ? originFormTarget(url, head.host) : undefined;
  return path ?? { status: 400, message: 'bad request' };
}
