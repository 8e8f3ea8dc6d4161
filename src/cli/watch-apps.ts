import { setTimeout as sleep } from 'node:timers/promises';
import type { CutoverClient } from '../api/client.js';
import type { AppStatus } from '../protocol/status.js';
import { DaemonUnreachableError } from '../errors.js';
import { plainLine, renderLiveView } from './live-view.js';
import { visible } from '../util/terminal-text.js';
import { mapStrings } from '../model/secrets.js';

const REFRESH_MS = 500;
/** The controller may restart meanwhile; its socket is back within seconds. */
const RECONNECT_GRACE_MS = 30_000;

export interface WatchOptions {
  /** Only these apps (default: every app). */
  apps?: readonly string[];
  /** A terminal redraws the live view in place; anything else gets one plain line per change. */
  isTerminal: boolean;
  /** Checked after each refresh: true ends the watch (after a last draw). */
  shouldStop?: () => boolean;
  write?: (text: string) => void;
  columns?: () => number;
}

/**
 * `cutover status APP --watch` and `cutover deploy` on a terminal: redraws the live view
 * (`renderLiveView`) twice a second; off a terminal prints a timestamped `plainLine` whenever
 * an app's phase, step, traffic or gate changes.
 */
export async function watchApps(client: CutoverClient, options: WatchOptions): Promise<void> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const lastPlain = new Map<string, string>();
  let drawnLines = 0;
  let unreachableSince: number | null = null;
  for (;;) {
    const isLast = options.shouldStop?.() === true;
    let apps: AppStatus[];
    let rates;
    try {
      [apps, rates] = await Promise.all([client.status().then((s) => s.apps), client.live()]);
      unreachableSince = null;
    } catch (error) {
      if (!(error instanceof DaemonUnreachableError)) throw error;
      unreachableSince ??= performance.now();
      if (performance.now() - unreachableSince > RECONNECT_GRACE_MS) throw error;
      await sleep(REFRESH_MS);
      continue;
    }
    // Reasons and gates quote hook output and app log lines: shown, never obeyed by the terminal.
    const shown = apps.filter((a) => options.apps === undefined || options.apps.includes(a.name)).map((app) => mapStrings(app, visible));
    if (options.isTerminal) {
      const lines = renderLiveView(
        shown.map((app) => ({ app, rates: rates.apps.find((r) => r.app === app.name)?.revisions ?? [] })),
        { width: options.columns?.() ?? process.stdout.columns ?? 80, isColored: !process.env.NO_COLOR },
      );
      write(`${drawnLines > 0 ? `\u001b[${drawnLines}A\r\u001b[J` : ''}${lines.join('\n')}\n`);
      drawnLines = lines.length;
    } else {
      for (const app of shown) {
        const line = plainLine(app);
        if (lastPlain.get(app.name) === line) continue;
        lastPlain.set(app.name, line);
        write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
      }
    }
    if (isLast) return;
    await sleep(REFRESH_MS);
  }
}
