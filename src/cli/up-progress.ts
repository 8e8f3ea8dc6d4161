import { setTimeout as sleep } from 'node:timers/promises';
import type { CutoverClient } from '../api/client.js';
import type { AppStatus } from '../protocol/status.js';
import { DaemonUnreachableError } from '../errors.js';
import { visible } from '../util/terminal-text.js';
import { isTerminalPhase } from '../model/rollout.js';

const POLL_MS = 500;
/** A line that did not change is said again after this long, so a long wait never looks like a hang. */
const REPEAT_MS = 10_000;
/** How long a settled status is not believed at start (the controller deploys the file a moment after it answers). */
const SETTLE_GRACE_MS = 10_000;

/**
 * What `up` waits for, one line per app with instances still starting: how many, of which
 * revision, and the health check's last answer. Pure, so it is tested without a daemon.
 *
 * @example
 * waitingLines(apps) // ['web: waiting for 2 instances of revision 1 to pass their health check (last check: HTTP 503)']
 */
export function waitingLines(apps: readonly AppStatus[]): string[] {
  const lines: string[] = [];
  for (const app of apps) {
    const starting = app.instances.filter((i) => i.state === 'starting');
    if (starting.length === 0) continue;
    const revisions = [...new Set(starting.map((i) => i.revision))].sort((a, b) => a - b).join(', ');
    const checks = [...new Set(starting.map((i) => i.lastCheck).filter((c): c is string => c !== undefined))];
    const count = starting.length === 1 ? '1 instance' : `${starting.length} instances`;
    const last = checks.length ? ` (last check: ${checks.join('; ')})` : '';
    lines.push(`${app.name}: waiting for ${count} of revision ${revisions} to pass their health check${last}`);
  }
  return lines;
}

export interface WaitingOptions {
  write?: (line: string) => void;
  /** Return once every app has settled (no rollout under way, nothing starting): the foreground `up`, which never returns otherwise. */
  shouldStopWhenSettled?: boolean;
}

function isSettled(apps: readonly AppStatus[]): boolean {
  return apps.length > 0 && apps.every((a) => (a.rollout === null || isTerminalPhase(a.rollout.phase)) && !a.instances.some((i) => i.state === 'starting'));
}

/**
 * Prints `waitingLines` while `up` waits, each time one changes (and every ten seconds while
 * it does not), until the signal aborts. App output quoted in a check is made visible, never obeyed.
 */
export async function printWhileWaiting(client: CutoverClient, signal: AbortSignal, options: WaitingOptions = {}): Promise<void> {
  const write = options.write ?? ((line: string) => console.log(line));
  const said = new Map<string, { line: string; atMs: number }>();
  const startedAtMs = performance.now();
  while (!signal.aborted) {
    try {
      const { apps } = await client.status();
      // Right after start the apps may still show the last run's settled state: give the deploy time to begin.
      const isPastStart = said.size > 0 || performance.now() - startedAtMs > SETTLE_GRACE_MS;
      if (options.shouldStopWhenSettled && isPastStart && isSettled(apps)) return;
      for (const line of waitingLines(apps)) {
        const app = line.slice(0, line.indexOf(':'));
        const before = said.get(app);
        if (before?.line === line && performance.now() - before.atMs < REPEAT_MS) continue;
        said.set(app, { line, atMs: performance.now() });
        if (!signal.aborted) write(visible(line));
      }
    } catch (error) {
      // The follow beside this one says what a gone daemon means; this only goes quiet.
      if (!(error instanceof DaemonUnreachableError)) throw error;
    }
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
  }
}
