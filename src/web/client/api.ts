import type { AppSummary, RolloutReport } from '../../api/client.js';
import type { AppStatus } from '../../protocol/status.js';
import type { LiveMetrics } from '../../protocol/live-metrics.js';
import type { EventRecord, RolloutRecord } from '../../model/records.js';

export type { AppSummary, AppStatus, LiveMetrics, EventRecord, RolloutRecord, RolloutReport };

/** An answer the API refused, with its `{code, message, hint}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The header the session travels in (src/web/ui-session.ts), and where this tab keeps it. */
const SESSION_HEADER = 'x-cutover-session';
const SESSION_KEY = 'cutover-session';

/**
 * The headers that authenticate a request of this page: its session, kept in this tab's
 * sessionStorage. Never a cookie: a browser sends cookies to every port of the host, the apps
 * behind cutover's proxy among them; this storage is readable by this origin's page only.
 */
export function sessionHeaders(): Record<string, string> {
  const session = sessionStorage.getItem(SESSION_KEY);
  return session === null ? {} : { [SESSION_HEADER]: session };
}

/** Calls the admin API of this listener with the session; the browser sends our Origin. */
export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/v1${path}`, {
    method,
    credentials: 'omit',
    headers: { ...sessionHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await response.json().catch(() => ({}))) as { code?: string; message?: string; hint?: string };
  if (response.status === 401) sessionStorage.removeItem(SESSION_KEY);
  if (!response.ok) throw new ApiError(response.status, data.code ?? 'INTERNAL', data.message ?? `HTTP ${response.status}`, data.hint);
  return data as T;
}

/** Trades the token for a session; false when the token is wrong. */
export async function login(token: string): Promise<boolean> {
  const response = await fetch('/login', {
    method: 'POST',
    credentials: 'omit',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (response.status !== 200) return false;
  const { session } = (await response.json()) as { session: string };
  sessionStorage.setItem(SESSION_KEY, session);
  return true;
}

/** Ends the session on the server (a copy of it is refused from then on) and forgets it here. */
export async function logout(): Promise<void> {
  const headers = sessionHeaders();
  sessionStorage.removeItem(SESSION_KEY);
  await fetch('/logout', { method: 'POST', credentials: 'omit', headers });
}

export const ACTIONS = ['promote', 'pause', 'resume', 'abort', 'rollback'] as const;
export type Action = (typeof ACTIONS)[number];

/** What each button does, asked before it is done. */
export const ACTION_QUESTIONS: Record<Action, (app: string) => string> = {
  promote: (app) => `Promote ${app}: pass the current step or gate?`,
  pause: (app) => `Pause the rollout of ${app} where it is?`,
  resume: (app) => `Resume the rollout of ${app}?`,
  abort: (app) => `Abort the rollout of ${app}: all traffic back to the stable revision at once?`,
  rollback: (app) => `Roll ${app} back to the previous revision?`,
};
