import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdminGuard, type AdminRefusal } from './admin-guard.js';
import { isTokenValid } from './admin-token.js';
import { createLimitedServer } from './listener-limits.js';
import { API_PREFIX } from './routes.js';
import type { HostPort } from '../model/app-spec.js';
import { DashboardSessions, SESSION_HEADER, SESSION_TTL_MS } from './dashboard-session.js';

/** Where `npm run build` puts the dashboard's bundle (scripts/build-web.ts): dist/web-ui/. */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../web-ui/', import.meta.url));

const MAX_LOGIN_BYTES = 4096;
/** The session cookie of earlier versions: a login and a logout tell the browser to forget it. */
const FORGET_OLD_COOKIE = 'cutover_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * Sent with every answer of the dashboard's listener: scripts and styles from the listener
 * only (no inline code, no eval), no framing, no referrer.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export interface UiServerOptions {
  listen: HostPort;
  token: string;
  /** The admin API's handler: the dashboard's `/v1/…` requests go there once the guard let them through. */
  handleApi: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  assetsDir?: string;
}

/**
 * The dashboard's listener (`cutover up --ui 127.0.0.1:7070`): the page and its bundle, a login
 * that turns the admin token into a session the page sends in the `X-Cutover-Session` header
 * (never a cookie: other ports of the host, the apps among them, would receive it), and the
 * admin API under `/v1`, behind the same guard as the TCP admin listener (Host allow-list, token
 * or session, same-origin Origin to change state). Logout ends the session on the server.
 */
export function createUiServer(options: UiServerOptions): http.Server {
  const sessions = new DashboardSessions();
  const guard = new AdminGuard(options.token, options.listen, [], { sessions });
  const assetsDir = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  const server = createLimitedServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const wrongHost = guard.checkHost(req);
    if (wrongHost) return refuse(res, wrongHost);
    const pathname = new URL(req.url ?? '/', 'http://cutover').pathname;
    if (pathname === API_PREFIX || pathname.startsWith(`${API_PREFIX}/`)) {
      const refusal = guard.check(req);
      if (refusal) return refuse(res, refusal);
      // An event stream lives no longer than its session.
      sessions.track(req.headers[SESSION_HEADER], res);
      options.handleApi(req, res);
      return;
    }
    if (pathname === '/login' && req.method === 'POST') return void login(req, res, guard, options.token, sessions);
    if (pathname === '/logout' && req.method === 'POST') {
      const refusal = guard.checkOrigin(req, true);
      if (refusal) return refuse(res, refusal);
      sessions.revoke(req.headers[SESSION_HEADER]);
      res.writeHead(204, { 'set-cookie': FORGET_OLD_COOKIE }).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED', message: `${req.method} ${pathname} is not allowed` });
    const file = pathname === '/' ? 'index.html' : pathname.startsWith('/assets/') ? pathname.slice('/assets/'.length) : null;
    if (file === null || !/^[a-z0-9][a-z0-9._-]*$/i.test(file)) return sendJson(res, 404, { code: 'NOT_FOUND', message: `no page ${pathname}` });
    serveFile(res, path.join(assetsDir, file), req.method === 'HEAD');
  });
  server.once('close', () => sessions.close());
  return server;
}

async function login(req: http.IncomingMessage, res: http.ServerResponse, guard: AdminGuard, token: string, sessions: DashboardSessions): Promise<void> {
  const refusal = guard.checkOrigin(req, true);
  if (refusal) return refuse(res, refusal);
  let presented: unknown;
  try {
    let text = '';
    for await (const chunk of req) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > MAX_LOGIN_BYTES) throw new Error('too long');
    }
    presented = (JSON.parse(text) as { token?: unknown }).token;
  } catch {
    return sendJson(res, 400, { code: 'BAD_REQUEST', message: 'send {"token": "…"} as JSON' });
  }
  if (typeof presented !== 'string' || !isTokenValid(presented.trim(), token)) {
    return sendJson(res, 401, {
      code: 'ADMIN_UNAUTHORIZED',
      message: 'that is not the admin token',
      hint: "the token is in the daemon's data dir, file admin-token",
    });
  }
  const body = JSON.stringify({ session: sessions.create(), expiresInMs: SESSION_TTL_MS });
  res
    .writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'set-cookie': FORGET_OLD_COOKIE,
    })
    .end(body);
}

function serveFile(res: http.ServerResponse, file: string, isHead: boolean): void {
  let body: Buffer;
  try {
    body = fs.readFileSync(file);
  } catch {
    const isBuilt = fs.existsSync(path.join(path.dirname(file), 'index.html'));
    if (!isBuilt) return sendJson(res, 503, { code: 'DASHBOARD_NOT_BUILT', message: 'the dashboard bundle is missing', hint: 'run npm run build' });
    return sendJson(res, 404, { code: 'NOT_FOUND', message: `no file ${path.basename(file)}` });
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': path.basename(file) === 'index.html' ? 'no-cache' : 'max-age=300',
  });
  res.end(isHead ? undefined : body);
}

function refuse(res: http.ServerResponse, refusal: AdminRefusal): void {
  res.setHeader('connection', 'close');
  sendJson(res, refusal.status, { code: refusal.code, message: refusal.message, ...(refusal.hint ? { hint: refusal.hint } : {}) });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
