import { createHash, randomBytes } from 'node:crypto';

/**
 * The request header that carries a dashboard session. A header, not a cookie: browsers send a
 * cookie to every port of a host (so to the apps on 127.0.0.1 too), but this header only from
 * the page that logged in, which keeps the value in its tab's sessionStorage (per origin: host
 * and port).
 */
export const SESSION_HEADER = 'x-cutover-session';
/** A dashboard login lasts at most this long, used or not. */
export const SESSION_TTL_MS = 12 * 60 * 60_000;
/** A session nobody used for this long (no request, no open event stream) ends. */
export const SESSION_IDLE_MS = 60 * 60_000;
/** Sessions kept at most; a login beyond it ends the oldest. */
export const MAX_SESSIONS = 64;
/** How often ended sessions are swept, and their open event streams cut. */
const SWEEP_INTERVAL_MS = 30_000;

interface Session {
  createdAtMs: number;
  lastUsedAtMs: number;
  /** Answers still open under this session (event streams): ended when it ends. */
  open: Set<OpenAnswer>;
}

/** An answer that stays open (an event stream), as much of `http.ServerResponse` as is used. */
export interface OpenAnswer {
  end(callback: () => void): unknown;
  destroy(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * The dashboard's sessions, kept by the controller in memory: a login makes one (32 random
 * bytes), logout ends it at once, and it ends by itself after 12 hours or an hour unused. Only
 * a hash of each value is kept. A controller restart ends every session (log in again).
 *
 * @example
 * const sessions = new DashboardSessions();
 * const value = sessions.create();
 * sessions.isValid(value); // true
 * sessions.revoke(value);
 * sessions.isValid(value); // false
 */
export class DashboardSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  /** A new session's value, to be sent to the page once and never stored here. */
  create(): string {
    this.sweep();
    if (this.sessions.size >= MAX_SESSIONS) this.end(this.sessions.keys().next().value!);
    const value = randomBytes(32).toString('base64url');
    const nowMs = this.now();
    this.sessions.set(digest(value), { createdAtMs: nowMs, lastUsedAtMs: nowMs, open: new Set() });
    return value;
  }

  /** Whether `value` (a request's session header) names a live session; a valid one counts as use. */
  isValid(value: string | string[] | undefined): boolean {
    const session = this.find(value);
    if (session !== undefined) session.lastUsedAtMs = this.now();
    return session !== undefined;
  }

  /** Keeps `answer` open only as long as the session of `value` lives (event streams). */
  track(value: string | string[] | undefined, answer: OpenAnswer): void {
    const session = this.find(value);
    if (session === undefined) return;
    session.open.add(answer);
    answer.once('close', () => {
      session.open.delete(answer);
      session.lastUsedAtMs = this.now();
    });
  }

  /** Ends the session of `value` (logout): it is refused from now on, and its streams are cut. */
  revoke(value: string | string[] | undefined): void {
    if (typeof value === 'string') this.end(digest(value));
  }

  /** Ends every session and stops the sweeper. */
  close(): void {
    clearInterval(this.sweeper);
    for (const key of [...this.sessions.keys()]) this.end(key);
  }

  private find(value: string | string[] | undefined): Session | undefined {
    if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined;
    const key = digest(value);
    const session = this.sessions.get(key);
    if (session === undefined) return undefined;
    if (this.hasEnded(session)) {
      this.end(key);
      return undefined;
    }
    return session;
  }

  private hasEnded(session: Session): boolean {
    const nowMs = this.now();
    const isIdle = session.open.size === 0 && nowMs - session.lastUsedAtMs >= SESSION_IDLE_MS;
    return nowMs - session.createdAtMs >= SESSION_TTL_MS || isIdle;
  }

  private sweep(): void {
    for (const [key, session] of this.sessions) if (this.hasEnded(session)) this.end(key);
  }

  private end(key: string): void {
    const session = this.sessions.get(key);
    if (session === undefined) return;
    this.sessions.delete(key);
    // Ended cleanly (the last chunk sent), then the connection closed: the client sees the end, not an error.
    for (const answer of session.open) answer.end(() => answer.destroy());
  }
}

/** Lookups go by the value's hash: comparing hashes leaks nothing of the value through timing. */
function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
