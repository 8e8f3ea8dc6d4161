import { CutoverError } from '../errors.js';

/**
 * Tunables of the data plane. Every field has a named default so the spec, the CLI and the
 * docs can share them. Times are milliseconds; `0` never means "no limit" unless stated.
 */

/** Time a client has to send the complete request head (slowloris guard, like HAProxy `timeout http-request`). */
export const DEFAULT_CLIENT_HEADERS_TIMEOUT_MS = 10_000;
/** Idle time after which a client keep-alive connection is closed. */
export const DEFAULT_CLIENT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Time a client has to send the complete request, head and body. */
export const DEFAULT_CLIENT_REQUEST_TIMEOUT_MS = 300_000;
/** How often Node checks the client header and request timeouts. */
export const DEFAULT_CLIENT_TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** Time to open a TCP connection to an upstream. */
export const DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS = 5_000;
/** Time an upstream has to send the response head once the request was sent (504 after it). */
export const DEFAULT_UPSTREAM_HEADERS_TIMEOUT_MS = 60_000;
/** Longest pause between two chunks of an upstream response body. */
export const DEFAULT_UPSTREAM_BODY_TIMEOUT_MS = 60_000;
/**
 * Idle time after which a pooled upstream connection is closed when the upstream sends no
 * `Keep-Alive: timeout=N` hint. Below Node's 5 s server default, so the proxy closes first.
 */
export const DEFAULT_UPSTREAM_KEEP_ALIVE_TIMEOUT_MS = 4_000;
/** Safety margin subtracted from an upstream's `Keep-Alive: timeout=N` hint. */
export const DEFAULT_UPSTREAM_KEEP_ALIVE_THRESHOLD_MS = 500;
/** Connections per upstream endpoint; `0` means no limit. */
export const DEFAULT_UPSTREAM_MAX_CONNECTIONS = 0;
/** Attempts per request, the first one included (DESIGN rule 3). */
export const DEFAULT_MAX_TRIES = 3;
/** Request bodies up to this size (with a known Content-Length) are buffered so they can be retried. */
export const DEFAULT_RETRY_BODY_BUFFER_BYTES = 64 * 1024;
/**
 * Time an HTTP/2 session may go without a complete request or stream activity before it is closed
 * (GOAWAY): PINGs and a header block's CONTINUATION frames do not restart it (Node's session timeout).
 */
export const DEFAULT_H2_IDLE_TIMEOUT_MS = 120_000;
/** Idle time after which a WebSocket tunnel is closed. */
export const DEFAULT_TUNNEL_IDLE_TIMEOUT_MS = 600_000;
/** How long `close()` and `removeApp()` let in-flight requests finish before cutting them. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
/** Largest header section (all `name: value` lines) a client may send; 431 above it. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** Longest request line (`METHOD target HTTP/1.1`); 414 above it. */
export const DEFAULT_MAX_REQUEST_LINE_BYTES = 8 * 1024;
/** Most header fields in one request; 431 above it. */
export const DEFAULT_MAX_HEADER_COUNT = 200;
/** Largest request body; 413 above it. `0` means no limit. */
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;
/** A request body arriving slower than this on average (bytes per second) is cut with 408. `0` turns the check off. */
export const DEFAULT_MIN_BODY_BYTES_PER_SECOND = 1024;
/** The minimum body rate is enforced once a body has been arriving for this long. */
export const DEFAULT_BODY_RATE_GRACE_MS = 10_000;
/** Open client connections per app listener and proxy worker; more are closed at once. `0` means no limit. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Mirror copies in flight per worker; a request to copy beyond it gets no copy. `0` disables mirroring. */
export const DEFAULT_MIRROR_MAX_CONCURRENT = 32;
/** Largest request body copied to a mirror; a request with a larger body gets no copy. */
export const DEFAULT_MIRROR_MAX_BODY_BYTES = 64 * 1024;
/** Time a mirror copy has for its response head, and longest pause in its body, before it is dropped. */
export const DEFAULT_MIRROR_TIMEOUT_MS = 10_000;

export interface ProxyOptions {
  clientHeadersTimeoutMs: number;
  clientKeepAliveTimeoutMs: number;
  clientRequestTimeoutMs: number;
  clientTimeoutCheckIntervalMs: number;
  upstreamConnectTimeoutMs: number;
  upstreamHeadersTimeoutMs: number;
  upstreamBodyTimeoutMs: number;
  upstreamKeepAliveTimeoutMs: number;
  upstreamKeepAliveThresholdMs: number;
  upstreamMaxConnections: number;
  maxTries: number;
  retryBodyBufferBytes: number;
  tunnelIdleTimeoutMs: number;
  h2IdleTimeoutMs: number;
  closeTimeoutMs: number;
  maxHeaderBytes: number;
  maxRequestLineBytes: number;
  maxHeaderCount: number;
  maxBodyBytes: number;
  minBodyBytesPerSecond: number;
  bodyRateGraceMs: number;
  maxConnections: number;
  /**
   * Addresses and CIDR blocks (`10.0.0.0/8`, `::1`) of proxies in front of cutover whose
   * `X-Forwarded-*` headers are kept (the peer's address is appended). From anyone else they
   * are replaced.
   */
  trustedProxies: readonly string[];
  mirrorMaxConcurrent: number;
  mirrorMaxBodyBytes: number;
  mirrorTimeoutMs: number;
}

type NumericOption = Exclude<keyof ProxyOptions, 'trustedProxies'>;

export const DEFAULT_PROXY_OPTIONS: Readonly<ProxyOptions> = Object.freeze({
  clientHeadersTimeoutMs: DEFAULT_CLIENT_HEADERS_TIMEOUT_MS,
  clientKeepAliveTimeoutMs: DEFAULT_CLIENT_KEEP_ALIVE_TIMEOUT_MS,
  clientRequestTimeoutMs: DEFAULT_CLIENT_REQUEST_TIMEOUT_MS,
  clientTimeoutCheckIntervalMs: DEFAULT_CLIENT_TIMEOUT_CHECK_INTERVAL_MS,
  upstreamConnectTimeoutMs: DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS,
  upstreamHeadersTimeoutMs: DEFAULT_UPSTREAM_HEADERS_TIMEOUT_MS,
  upstreamBodyTimeoutMs: DEFAULT_UPSTREAM_BODY_TIMEOUT_MS,
  upstreamKeepAliveTimeoutMs: DEFAULT_UPSTREAM_KEEP_ALIVE_TIMEOUT_MS,
  upstreamKeepAliveThresholdMs: DEFAULT_UPSTREAM_KEEP_ALIVE_THRESHOLD_MS,
  upstreamMaxConnections: DEFAULT_UPSTREAM_MAX_CONNECTIONS,
  maxTries: DEFAULT_MAX_TRIES,
  retryBodyBufferBytes: DEFAULT_RETRY_BODY_BUFFER_BYTES,
  tunnelIdleTimeoutMs: DEFAULT_TUNNEL_IDLE_TIMEOUT_MS,
  h2IdleTimeoutMs: DEFAULT_H2_IDLE_TIMEOUT_MS,
  closeTimeoutMs: DEFAULT_CLOSE_TIMEOUT_MS,
  maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
  maxRequestLineBytes: DEFAULT_MAX_REQUEST_LINE_BYTES,
  maxHeaderCount: DEFAULT_MAX_HEADER_COUNT,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  minBodyBytesPerSecond: DEFAULT_MIN_BODY_BYTES_PER_SECOND,
  bodyRateGraceMs: DEFAULT_BODY_RATE_GRACE_MS,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  trustedProxies: Object.freeze([]),
  mirrorMaxConcurrent: DEFAULT_MIRROR_MAX_CONCURRENT,
  mirrorMaxBodyBytes: DEFAULT_MIRROR_MAX_BODY_BYTES,
  mirrorTimeoutMs: DEFAULT_MIRROR_TIMEOUT_MS,
});

/** Fills in defaults; fields set to `undefined` keep their default. */
export function resolveProxyOptions(options: Partial<ProxyOptions> = {}): ProxyOptions {
  const resolved: ProxyOptions = { ...DEFAULT_PROXY_OPTIONS, trustedProxies: [...(options.trustedProxies ?? [])] };
  for (const key of Object.keys(resolved) as NumericOption[]) {
    if ((key as keyof ProxyOptions) === 'trustedProxies') continue;
    const value = options[key];
    if (value !== undefined) {
      if (!Number.isFinite(value) || value < 0) {
        throw new CutoverError('PROXY_INVALID_OPTION', `proxy option ${key} must be a finite number >= 0, got ${String(value)}`);
      }
      resolved[key] = value;
    }
  }
  if (resolved.maxTries < 1) resolved.maxTries = 1;
  if (resolved.maxHeaderBytes < 1 || resolved.maxRequestLineBytes < 1 || resolved.maxHeaderCount < 1) {
    throw new CutoverError('PROXY_INVALID_OPTION', 'proxy options maxHeaderBytes, maxRequestLineBytes and maxHeaderCount must be at least 1');
  }
  // Node refuses a header timeout longer than the request timeout.
  if (resolved.clientRequestTimeoutMs > 0 && resolved.clientHeadersTimeoutMs > resolved.clientRequestTimeoutMs) {
    resolved.clientHeadersTimeoutMs = resolved.clientRequestTimeoutMs;
  }
  return resolved;
}
