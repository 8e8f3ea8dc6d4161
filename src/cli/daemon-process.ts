import type { PrimaryOptions } from '../daemon/primary.js';
import { dataDirLayout } from '../daemon/data-dir.js';
import { visible } from '../util/terminal-text.js';
import { isoTime } from '../util/iso-time.js';

/** What the daemon process runs with, checked by `cutover up` before it starts one: the primary's options but its callbacks. */
export type DaemonProcessOptions = Pick<PrimaryOptions, 'configPath' | 'dataDir' | 'workers' | 'admin' | 'ui' | 'proxy'>;

/** How `up --detach` hands its checked options to the daemon process it starts (`daemon-main.js`). */
export const DAEMON_OPTIONS_ENV = 'CUTOVER_DAEMON_OPTIONS';

/**
 * Runs the daemon (the primary, which starts the proxy workers and the controller) in this
 * process until it stops, logging to stdout; resolves with its exit code. What the first
 * rollouts wait for is said beside their events once the controller answers. Loads little
 * before the primary runs: after a crash of the primary, serving again is a race.
 */
export async function runDaemon(options: DaemonProcessOptions): Promise<number> {
  const layout = dataDirLayout(options.dataDir);
  console.log(`cutover up: data dir ${layout.root}, ${options.workers} proxy worker(s); Ctrl-C stops gracefully`);
  if (options.admin !== undefined) console.log(`admin API on http://${options.admin}, bearer token in ${layout.adminToken}`);
  if (options.ui !== undefined) console.log(`dashboard on http://${options.ui}, log in with the token in ${layout.adminToken}`);
  const log = (line: string): void => console.log(`${isoTime()} ${visible(line)}`);
  const stopped = new AbortController();
  const sayWhatRolloutsWaitFor = async (): Promise<void> => {
    const [{ printWhileWaiting }, { CutoverClient }] = await Promise.all([import('./up-progress.js'), import('../api/client.js')]);
    await printWhileWaiting(new CutoverClient({ socketPath: layout.socket }), stopped.signal, { write: log, shouldStopWhenSettled: true });
  };
  const [{ runPrimary }, { setChildNodeFlags }] = await Promise.all([import('../daemon/primary.js'), import('../daemon/process-flags.js')]);
  setChildNodeFlags();
  const code = await runPrimary({
    ...options,
    log,
    onReady: () => void sayWhatRolloutsWaitFor().catch(() => undefined),
  });
  stopped.abort();
  console.log('cutover daemon stopped');
  return code;
}
