import type http from 'node:http';
import { isIP } from 'node:net';
import os from 'node:os';
import { bearerToken, isTokenValid } from '../api/admin-token.js';

/** Why a scrape is refused, if it is. */
export interface MetricsRefusal {
  status: 401 | 403;
  message: string;
}

/**
 * Who may read `/metrics`. `Host` must be an IP address, `localhost` or this machine's host
 * name: a page that a DNS-rebinding attack points at the listener sends its own domain name
 * instead, so it cannot read the metrics. With `metrics.token`, a request must also bear it
 * (`Authorization: Bearer …`), as Prometheus does with `authorization: { credentials: … }`.
 */
export function checkMetricsAccess(req: http.IncomingMessage, token: string | undefined): MetricsRefusal | undefined {
  if (!isAllowedHost(req.headers.host)) {
    return { status: 403, message: `Host ${JSON.stringify(req.headers.host ?? '')} is not an address or a name of this machine` };
  }
  if (token !== undefined && !isTokenValid(bearerToken(req.headers.authorization), token)) {
    return { status: 401, message: 'a valid bearer token is required (metrics.token)' };
  }
  return undefined;
}

function isAllowedHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = (host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '')).toLowerCase();
  return isIP(name) !== 0 || name === 'localhost' || name === os.hostname().toLowerCase();
}
