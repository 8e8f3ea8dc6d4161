import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError } from '../../errors.js';
import { isAlive, readPid } from '../../daemon/daemon-lock.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { runRemotely } from '../remote/run-remotely.js';

const DOWN_TIMEOUT_MS = 120_000;

export async function down(options: GlobalOptions): Promise<void> {
  const { client, layout, remote } = commandContext(options);
  if (remote !== null) {
    // Waiting for the daemon's pid to go needs the server's files: run there.
    process.exitCode = await runRemotely(remote, ['down']);
    return;
  }
  const pid = readPid(layout.pidFile);
  // Nothing to stop is what `down` asked for: not an error (exit 0).
  if (pid === null || !isAlive(pid)) {
    console.log(`cutover daemon not running (data dir ${layout.root})`);
    return;
  }
  await client.shutdown();
  console.log('stopping: draining every instance, then the daemon…');
  const deadline = performance.now() + DOWN_TIMEOUT_MS;
  while (readPid(layout.pidFile) !== null && (pid === null || isAlive(pid))) {
    if (performance.now() > deadline)
      throw new CutoverError('DAEMON_STOP_TIMEOUT', `the daemon (pid ${pid}) is still running after ${DOWN_TIMEOUT_MS / 1000}s`, {
        hint: `See ${layout.daemonLog}`,
      });
    await sleep(100);
  }
  console.log('cutover daemon stopped');
}
