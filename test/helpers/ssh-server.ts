import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/runtime/local/free-port.js';
import { externalProgram } from './external-program.js';
import { repoRoot } from './repo.js';

/**
 * Debian's OpenSSH server on 127.0.0.1 (a free port), with a host key and a client key of its
 * own, for `cutover --host` tests: logins as the current user run this worktree's bin/cutover.js
 * as `cutover` (PATH from the authorized key's `environment=`), plus any variable in `env`.
 * `clientConfig` is an ssh_config for CUTOVER_SSH_CONFIG: the key, the host key pinned, no prompt.
 */
export interface SshServer {
  port: number;
  user: string;
  clientConfig: string;
  close(): Promise<void>;
}

/** Starts the server, or answers why the test must skip (fails instead under CUTOVER_REQUIRE_EXTERNAL=1). */
export async function startSshServer(env: Record<string, string> = {}): Promise<SshServer | { skip: string }> {
  const sshd = externalProgram('sshd', 'openssh-server');
  if ('skip' in sshd) return sshd;
  const ssh = externalProgram('ssh', 'openssh-client');
  if ('skip' in ssh) return ssh;
  const keygen = externalProgram('ssh-keygen', 'openssh-client');
  if ('skip' in keygen) return keygen;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssh-'));
  fs.chmodSync(dir, 0o700);
  const file = (name: string): string => path.join(dir, name);
  for (const key of ['host_key', 'client_key']) execFileSync(keygen.path, ['-q', '-t', 'ed25519', '-N', '', '-C', 'cutover-test', '-f', file(key)]);
  // `cutover` on the remote PATH is this worktree's, run by this Node.
  fs.mkdirSync(file('bin'));
  fs.writeFileSync(
    file('bin/cutover'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(repoRoot(), 'bin', 'cutover.js'))} "$@"\n`,
    {
      mode: 0o755,
    },
  );
  const variables = { PATH: `${file('bin')}:/usr/bin:/bin`, ...env };
  const options = Object.entries(variables)
    .map(([name, value]) => `environment="${name}=${value}"`)
    .join(',');
  fs.writeFileSync(file('authorized_keys'), `${options} ${fs.readFileSync(file('client_key.pub'), 'utf8')}`, { mode: 0o600 });
  const port = await findFreePort();
  const user = os.userInfo().username;
  fs.writeFileSync(
    file('sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${file('host_key')}`,
      `AuthorizedKeysFile ${file('authorized_keys')}`,
      `PidFile ${file('sshd.pid')}`,
      `PermitUserEnvironment ${Object.keys(variables).join(',')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const hostKey = fs.readFileSync(file('host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(file('known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
  fs.writeFileSync(
    file('ssh_config'),
    [
      'Host *',
      `  IdentityFile ${file('client_key')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${file('known_hosts')}`,
      '  StrictHostKeyChecking yes',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // Run as root, sshd needs its privilege separation directory (made at boot on a real server).
  const privsep = '/run/sshd';
  const madePrivsep = process.getuid?.() === 0 && !fs.existsSync(privsep);
  if (madePrivsep) fs.mkdirSync(privsep, { mode: 0o755 });
  const server: ChildProcess = spawn(sshd.path, ['-D', '-e', '-f', file('sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await exited;
    }
    if (madePrivsep) fs.rmSync(privsep, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = performance.now() + 10_000;
  while (!(await accepts(port))) {
    if (server.exitCode !== null || performance.now() > deadline) {
      await close();
      throw new Error(`sshd did not start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, user, clientConfig: file('ssh_config'), close };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
