import { DaemonUnreachableError } from '../../errors.js';
import { isAlive, readPid } from '../../daemon/daemon-lock.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { runRemotely } from '../remote/run-remotely.js';

/**
 * `cutover reload`: SIGHUP to the daemon's primary, which starts new proxy workers on the
 * listening sockets it holds and lets the old ones drain (see `runPrimary`). Returns at once;
 * the daemon log says when the new workers serve.
 */
export async function reload(options: GlobalOptions): Promise<void> {
  const { layout, remote } = commandContext(options);
  if (remote !== null) {
    // A signal to the server's primary: sent there.
    process.exitCode = await runRemotely(remote, ['reload']);
    return;
  }
  const pid = readPid(layout.pidFile);
  if (pid === null || !isAlive(pid)) {
    throw new DaemonUnreachableError(`no cutover daemon runs for ${layout.root}`, { hint: 'Start it with: cutover up' });
  }
  process.kill(pid, 'SIGHUP');
  console.log(`reloading the proxy: new workers start, the old ones drain (see ${layout.daemonLog})`);
}
