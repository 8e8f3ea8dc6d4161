import { DaemonUnreachableError } from '../../errors.js';
import { isAlive, readPid } from '../../daemon/daemon-lock.js';
import { commandContext, type GlobalOptions } from '../context.js';

/**
 * `cutover reload`: SIGHUP to the daemon's primary, which starts new proxy workers on the
 * listening sockets it holds and lets the old ones drain (see `runPrimary`). Returns at once;
 * the daemon log says when the new workers serve.
 */
export function reload(options: GlobalOptions): void {
  const { layout } = commandContext(options);
  const pid = readPid(layout.pidFile);
  if (pid === null || !isAlive(pid)) {
    throw new DaemonUnreachableError(`no cutover daemon runs for ${layout.root}`, { hint: 'Start it with: cutover up' });
  }
  process.kill(pid, 'SIGHUP');
  console.log(`reloading the proxy: new workers start, the old ones drain (see ${layout.daemonLog})`);
}
