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
/** Idle time after which a WebSocket tunnel is closed. */
export const DEFAULT_TUNNEL_IDLE_TIMEOUT_MS = 600_000;
/** How long `close()` and `removeApp()` let in-flight requests finish before cutting them. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
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
  closeTimeoutMs: number;
  mirrorMaxConcurrent: number;
  mirrorMaxBodyBytes: number;
  mirrorTimeoutMs: number;
}

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
  closeTimeoutMs: DEFAULT_CLOSE_TIMEOUT_MS,
  mirrorMaxConcurrent: DEFAULT_MIRROR_MAX_CONCURRENT,
  mirrorMaxBodyBytes: DEFAULT_MIRROR_MAX_BODY_BYTES,
  mirrorTimeoutMs: DEFAULT_MIRROR_TIMEOUT_MS,
});

/** Fills in defaults; fields set to `undefined` keep their default. */
export function resolveProxyOptions(options: Partial<ProxyOptions> = {}): ProxyOptions {
  const resolved: ProxyOptions = { ...DEFAULT_PROXY_OPTIONS };
  for (const key of Object.keys(resolved) as (keyof ProxyOptions)[]) {
    const value = options[key];
    if (value !== undefined) {
      if (!Number.isFinite(value) || value < 0) {
        throw new CutoverError('PROXY_INVALID_OPTION', `proxy option ${key} must be a finite number >= 0, got ${String(value)}`);
      }
      resolved[key] = value;
    }
  }
  if (resolved.maxTries < 1) resolved.maxTries = 1;
  // Node refuses a header timeout longer than the request timeout.
  if (resolved.clientRequestTimeoutMs > 0 && resolved.clientHeadersTimeoutMs > resolved.clientRequestTimeoutMs) {
    resolved.clientHeadersTimeoutMs = resolved.clientRequestTimeoutMs;
  }
  return resolved;
}
