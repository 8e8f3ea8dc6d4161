/**
 * What went wrong with one try of a request, as far as retrying is concerned.
 * - `not-sent`: nothing of the request reached the upstream (connect refused or timed out,
 *   pool closed, idle socket found dead before writing), or the app closed an idle connection
 *   without reading the request written on it (`isUnreadReset`); safe to retry for any method.
 * - `reset`: the connection was reset or closed after the request was (maybe) written and
 *   before any response; safe to retry only for idempotent requests with a replayable body.
 * - `timeout`: the upstream accepted the request but did not answer in time (504).
 * - `bad-request`: the client's request cannot be forwarded as it is (400).
 * - `failed`: anything else (502).
 */
export const UPSTREAM_FAILURE_KINDS = ['not-sent', 'reset', 'timeout', 'bad-request', 'failed'] as const;
export type UpstreamFailureKind = (typeof UPSTREAM_FAILURE_KINDS)[number];

const BAD_REQUEST_CODES: ReadonlySet<string> = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH']);

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);

/**
 * Classifies an error reported for one try. `isWritten` tells whether the request had
 * started to go out on a socket (undici called `onRequestStart`). An error marked by
 * `markRequestUnread` counts as `not-sent`: the request was written, but the app never read it.
 */
export function classifyUpstreamFailure(error: Error, isWritten: boolean): UpstreamFailureKind {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && BAD_REQUEST_CODES.has(code)) return 'bad-request';
  if (!isWritten || isRequestUnread(error)) return 'not-sent';
  if (typeof code !== 'string') return 'failed';
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (RESET_CODES.has(code)) return 'reset';
  return 'failed';
}

/**
 * True when an established connection was reset or closed (as opposed to a connection that
 * could not be opened). The endpoint itself may be fine (a stale keep-alive socket), so a
 * retry may go back to an endpoint already tried when no other one is left.
 */
export function isConnectionReset(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && RESET_CODES.has(code);
}

/**
 * A request the app never read (RFC 9112 §9.3.1): the proxy writes a request on a connection
 * just as the app closes it, for idleness (the keep-alive race) or because it is shutting down
 * (its server closes the connections that carry no request yet, fresh ones included). The
 * request was certainly not applied when the connection is reset (RST: `ECONNRESET`, or `EPIPE`
 * on writing), not ended by a FIN, before any byte of the response: a kernel answers with RST
 * when the app closes its socket with bytes it never read still queued, or when bytes arrive
 * after the app closed it (or closed its listening socket with the connection still queued);
 * with one request at a time on a connection, those bytes are our request. An app that read a
 * request and then closes (or crashes) ends with a FIN, which stays a `reset`. (The one app
 * this misreads aborts its connection with RST on purpose after reading, without answering.)
 */
export function isUnreadReset(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** Marks an upstream error as the keep-alive race's (see `isUnreadReset`): the try may go again. */
export function markRequestUnread(error: Error): void {
  (error as { isRequestUnread?: boolean }).isRequestUnread = true;
}

function isRequestUnread(error: Error): boolean {
  return (error as { isRequestUnread?: unknown }).isRequestUnread === true;
}

/** Methods a client may repeat without changing the result (RFC 9110 §9.2.2, minus PUT/DELETE by choice). */
export function isIdempotentMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'TRACE';
}

/** Status and short reason sent to the client when no try succeeded. */
export function failureStatus(kind: UpstreamFailureKind, error: Error): 400 | 502 | 504 {
  if (kind === 'bad-request') return 400;
  const code = (error as { code?: unknown }).code;
  if (kind === 'timeout' || (typeof code === 'string' && TIMEOUT_CODES.has(code))) return 504;
  return 502;
}
