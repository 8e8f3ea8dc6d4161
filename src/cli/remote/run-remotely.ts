import { spawn } from 'node:child_process';
import type { SshHost } from './ssh-host.js';
import { remoteCutover, sshArgv } from './ssh-transport.js';

/**
 * Runs a whole cutover command on the target, for the commands that work on the server's files
 * rather than through its daemon's API (`logs`, `down`, `reload`): its output is shown as it
 * comes, and its exit code is this command's (ssh's own failures exit 255, as ssh does).
 */
export function runRemotely(target: SshHost, command: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('ssh', sshArgv(target, remoteCutover(target, command)), { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (error) => {
      console.error(`error: cannot run ssh: ${error.message}`);
      resolve(255);
    });
    child.on('close', (code) => resolve(code ?? 255));
  });
}
