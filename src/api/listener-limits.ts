import http from 'node:http';
import { closeLingering } from '../util/lingering-close.js';

/** Time a client of the admin or dashboard listener has to send a request head (slowloris guard, as the proxy's). */
export const ADMIN_HEADERS_TIMEOUT_MS = 10_000;
/** Time a client has to send a whole request, body included (the largest body is 10 MiB). */
export const ADMIN_REQUEST_TIMEOUT_MS = 30_000;
/** Open connections per listener; more are closed at once. A dashboard tab holds about six. */
export const ADMIN_MAX_CONNECTIONS = 128;
/** How often Node checks the timeouts above: a slow client is cut at most this long after its deadline. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * An HTTP server for a TCP listener of the control plane (the admin API, the dashboard) with
 * the proxy's slow-client limits: a head within 10 s, a request within 30 s, at most 128
 * connections. Long answers (the event stream) are not limited: only what the client sends is.
 */
export function createLimitedServer(handler: http.RequestListener): http.Server {
  const server = http.createServer(
    { headersTimeout: ADMIN_HEADERS_TIMEOUT_MS, requestTimeout: ADMIN_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    handler,
  );
  server.maxConnections = ADMIN_MAX_CONNECTIONS;
  // An answer that closes the connection before the request was read whole (a 413, a refusal)
  // must not be lost to a reset while the client is still sending.
  server.on('connection', (socket) => closeLingering(socket, true));
  return server;
}
