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

/** Calls the admin API of this listener; the session cookie authenticates, the browser sends our Origin. */
export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await response.json().catch(() => ({}))) as { code?: string; message?: string; hint?: string };
  if (!response.ok) throw new ApiError(response.status, data.code ?? 'INTERNAL', data.message ?? `HTTP ${response.status}`, data.hint);
  return data as T;
}

/** Trades the token for the session cookie; false when the token is wrong. */
export async function login(token: string): Promise<boolean> {
  const response = await fetch('/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  return response.status === 204;
}

export async function logout(): Promise<void> {
  await fetch('/logout', { method: 'POST', credentials: 'same-origin' });
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
