import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the dashboard's session cookie. */
export const SESSION_COOKIE = 'cutover_session';
/** A dashboard login lasts this long. */
export const SESSION_TTL_MS = 12 * 60 * 60_000;

/**
 * The dashboard's session: `<expiry ms>.<HMAC-SHA256 of it, keyed by the admin token>`. It is
 * stateless, so it survives a controller restart; it ends at its expiry, and at once for every
 * browser when the token file changes. The token itself never reaches the browser's storage.
 */
export function createSessionValue(token: string, nowMs: number): string {
  const expiresAt = String(nowMs + SESSION_TTL_MS);
  return `${expiresAt}.${sign(token, expiresAt)}`;
}

/** The `Set-Cookie` value of a new session: HttpOnly, SameSite=Strict, for the whole listener. */
export function sessionCookieHeader(value: string): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`;
}

/** The `Set-Cookie` value that ends the session. */
export function clearedSessionCookieHeader(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

/** Whether the request's `Cookie` header carries an unexpired session made with `token`. */
export function hasValidSession(cookieHeader: string | undefined, token: string, nowMs: number): boolean {
  const value = cookieValue(cookieHeader, SESSION_COOKIE);
  const match = value === undefined ? null : /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (match === null) return false;
  const [, expiresAt, signature] = match;
  if (Number(expiresAt) <= nowMs) return false;
  const expected = Buffer.from(sign(token, expiresAt!));
  const presented = Buffer.from(signature!);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

function sign(token: string, expiresAt: string): string {
  return createHmac('sha256', token).update(`cutover-dashboard-session:${expiresAt}`).digest('base64url');
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
