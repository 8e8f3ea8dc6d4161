import fs from 'node:fs';
import path from 'node:path';
import type { HookSpec } from '../model/app-spec.js';
import { expandVars } from '../runtime/local/expand-vars.js';
import { runCommand } from '../runtime/local/run-command.js';

/** How many of a hook's last output lines go into the rollout's events. */
export const HOOK_OUTPUT_LINES = 8;
const MAX_TAIL_BYTES = 16 * 1024;
const MAX_HTTP_BODY_LOGGED = 4 * 1024;

export interface HookOutcome {
  isSuccess: boolean;
  /** What happened, in words: "exited with code 0 after 1.2s", "timed out after 1m; …". */
  summary: string;
  /** The last lines of its output, for events and reasons. */
  lastLines: string[];
  isCancelled: boolean;
}

export interface StartedHook {
  pid: number | null;
  identity: string | null;
  done: Promise<HookOutcome>;
  cancel(): void;
}

/** The hook as configured, variables not expanded (they may hold secrets): for events and history. */
export function describeHook(hook: HookSpec): string {
  const { action } = hook;
  if (action.kind === 'http') return `${action.method} ${action.url}`;
  return action.command.map((part) => (/[\s"']/.test(part) && !action.shell ? JSON.stringify(part) : part)).join(' ');
}

/**
 * Runs one hook: a command in its own process group, or an HTTP call, bounded by its timeout.
 * Output is appended to `logPath` under a header line; `${VAR}`s come from `env`.
 */
export function startHook(hook: HookSpec, options: { env: Record<string, string>; logPath: string; title: string }): StartedHook {
  fs.mkdirSync(path.dirname(options.logPath), { recursive: true, mode: 0o700 });
  fs.appendFileSync(options.logPath, `==> ${new Date().toISOString()} ${options.title}: ${describeHook(hook)}\n`, { mode: 0o600 });
  const offset = fs.statSync(options.logPath).size;
  const { action } = hook;
  if (action.kind === 'command') {
    const run = runCommand({
      command: action.command,
      shell: action.shell,
      cwd: action.cwd,
      env: options.env,
      logPath: options.logPath,
      timeoutMs: hook.timeoutMs,
    });
    const done = run.done.then((outcome): HookOutcome => {
      const took = formatMs(outcome.durationMs);
      const summary = outcome.spawnError
        ? outcome.spawnError
        : outcome.isTimedOut
          ? `timed out after ${formatMs(hook.timeoutMs)}; its process group was killed`
          : outcome.isCancelled
            ? `cancelled after ${took}; its process group was killed`
            : outcome.signal
              ? `was killed by ${outcome.signal} after ${took}`
              : `exited with code ${outcome.exitCode} after ${took}`;
      const isSuccess = outcome.exitCode === 0 && !outcome.isTimedOut && !outcome.isCancelled;
      fs.appendFileSync(options.logPath, `<== ${summary}\n`);
      return { isSuccess, summary, lastLines: tailLines(options.logPath, offset), isCancelled: outcome.isCancelled };
    });
    return { pid: run.pid, identity: run.identity, done, cancel: run.cancel };
  }

  const controller = new AbortController();
  let isCancelled = false;
  const started = performance.now();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), hook.timeoutMs);
  const url = expandVars(action.url, options.env);
  const headers = Object.fromEntries(Object.entries(action.headers).map(([name, value]) => [name, expandVars(value, options.env)]));
  const hasBody = action.method !== 'GET' && action.method !== 'HEAD';
  const body = !hasBody ? undefined : action.body === null ? JSON.stringify(rolloutSummary(options.env)) : expandVars(action.body, options.env);
  if (hasBody && action.body === null && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const done = (async (): Promise<HookOutcome> => {
    let summary: string;
    let isSuccess = false;
    try {
      const response = await fetch(url, { method: action.method, headers, body, signal: controller.signal });
      const text = await response.text();
      fs.appendFileSync(options.logPath, `${text.slice(0, MAX_HTTP_BODY_LOGGED)}${text.length > MAX_HTTP_BODY_LOGGED ? '\n[…]' : ''}\n`);
      isSuccess = response.status >= 200 && response.status < 300;
      summary = `answered ${response.status} after ${formatMs(performance.now() - started)}`;
    } catch (error) {
      const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
      summary = isCancelled
        ? 'cancelled'
        : controller.signal.aborted
          ? `timed out after ${formatMs(hook.timeoutMs)}; the call was cancelled`
          : `failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
    fs.appendFileSync(options.logPath, `<== ${summary}\n`);
    return { isSuccess, summary, lastLines: tailLines(options.logPath, offset), isCancelled };
  })();
  return {
    pid: null,
    identity: null,
    done,
    cancel: () => {
      isCancelled = true;
      controller.abort(new Error('cancelled'));
    },
  };
}

/** The default body of an HTTP hook: the rollout in a few fields, from the hook environment. */
function rolloutSummary(env: Record<string, string>): Record<string, string | number | null> {
  const number = (name: string): number | null => (env[name] ? Number(env[name]) : null);
  return {
    app: env['CUTOVER_APP'] ?? null,
    rolloutId: number('CUTOVER_ROLLOUT_ID'),
    revision: number('CUTOVER_REVISION'),
    fromRevision: number('CUTOVER_FROM_REVISION'),
    strategy: env['CUTOVER_STRATEGY'] ?? null,
    hook: env['CUTOVER_PHASE'] ?? null,
    phase: env['CUTOVER_ROLLOUT_PHASE'] ?? null,
    reason: env['CUTOVER_REASON'] || null,
    previewUrl: env['PREVIEW_URL'] ?? null,
  };
}

/** The last lines written to a log file since `offset`, without the closing summary line. */
function tailLines(logPath: string, offset: number): string[] {
  try {
    const size = fs.statSync(logPath).size;
    const from = Math.max(offset, size - MAX_TAIL_BYTES);
    const fd = fs.openSync(logPath, 'r');
    try {
      const buffer = Buffer.alloc(size - from);
      fs.readSync(fd, buffer, 0, buffer.length, from);
      const lines = buffer
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('<== '));
      return lines.slice(-HOOK_OUTPUT_LINES).map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}

function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  return `${(ms / 60_000).toFixed(1)}m`;
}
