import type http from 'node:http';
import { formatListen } from '../config/parse-listen.js';
import type { HostPort } from '../model/app-spec.js';
import { bearerToken, isTokenValid } from './admin-token.js';
import { SESSION_HEADER, type DashboardSessions } from './dashboard-session.js';
import { ERROR_CATALOG } from '../error-catalog.js';

/** How a listener authenticates: the admin TCP listener takes the bearer token only; the dashboard's also a session. */
export interface AdminGuardMode {
  /** Accept one of these dashboard sessions (its header) instead of the bearer token. A request it authenticates must carry the listener's own Origin to change state. */
  sessions?: DashboardSessions;
}

/** What a TCP admin request is refused with, if it is. */
export interface AdminRefusal {
  status: 401 | 403;
  code: 'ADMIN_UNAUTHORIZED' | 'ADMIN_HOST_NOT_ALLOWED' | 'ADMIN_ORIGIN_NOT_ALLOWED';
  message: string;
  hint?: string;
}

const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The checks in front of the admin API on TCP (the unix socket, mode 0600, needs none):
 * 1. `Host` must be one of the listener's own names (loopback names and the bound address),
 *    against DNS rebinding;
 * 2. a bearer token on every route, unknown ones included (401);
 * 3. a state-changing request that carries an `Origin` must come from one of those names
 *    (a page on another site cannot drive the API, CSRF).
 * Messages never echo a presented token.
 */
export class AdminGuard {
  private readonly allowedHosts: ReadonlySet<string>;

  constructor(
    private readonly token: string,
    listen: HostPort,
    extraHosts: readonly string[] = [],
    private readonly mode: AdminGuardMode = {},
  ) {
    const port = listen.port;
    const hosts = new Set<string>([formatListen(listen), `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
    for (const host of extraHosts) hosts.add(host.includes(':') && !host.startsWith('[') ? host : `${host}:${port}`);
    this.allowedHosts = new Set([...hosts].map((h) => h.toLowerCase()));
  }

  check(req: http.IncomingMessage): AdminRefusal | undefined {
    const wrongHost = this.checkHost(req);
    if (wrongHost) return wrongHost;
    const isBearer = isTokenValid(bearerToken(req.headers.authorization), this.token);
    const isSession = !isBearer && this.mode.sessions !== undefined && this.mode.sessions.isValid(req.headers[SESSION_HEADER]);
    if (!isBearer && !isSession) {
      return {
        status: ERROR_CATALOG.ADMIN_UNAUTHORIZED.http,
        code: 'ADMIN_UNAUTHORIZED',
        message: 'a valid bearer token is required',
        hint: "send Authorization: Bearer <the token in the data dir's admin-token file>",
      };
    }
    return this.checkOrigin(req, isSession);
  }

  /** `Host` must name this listener (a DNS-rebinding page's does not). */
  checkHost(req: http.IncomingMessage): AdminRefusal | undefined {
    const host = req.headers.host?.toLowerCase();
    if (host === undefined || !this.allowedHosts.has(host)) {
      return {
        status: ERROR_CATALOG.ADMIN_HOST_NOT_ALLOWED.http,
        code: 'ADMIN_HOST_NOT_ALLOWED',
        message: `Host ${JSON.stringify(req.headers.host ?? '')} is not one of the admin listener's names`,
        hint: `use one of ${[...this.allowedHosts].join(', ')}`,
      };
    }
    return undefined;
  }

  /**
   * A state-changing request that carries an Origin must carry the listener's own; one that a
   * browser authenticated with its session must carry it, full stop (CSRF).
   */
  checkOrigin(req: http.IncomingMessage, isOriginRequired: boolean): AdminRefusal | undefined {
    const origin = req.headers.origin;
    if (
      STATE_CHANGING_METHODS.has(req.method ?? '') &&
      ((origin === undefined && isOriginRequired) || (origin !== undefined && !this.isAllowedOrigin(origin)))
    ) {
      return {
        status: ERROR_CATALOG.ADMIN_ORIGIN_NOT_ALLOWED.http,
        code: 'ADMIN_ORIGIN_NOT_ALLOWED',
        message: `Origin ${JSON.stringify(origin)} may not change state through the admin API`,
      };
    }
    return undefined;
  }

  private isAllowedOrigin(origin: string): boolean {
    const match = /^http:\/\/([^/]+)$/i.exec(origin);
    return match !== null && this.allowedHosts.has(match[1]!.toLowerCase());
  }
}
