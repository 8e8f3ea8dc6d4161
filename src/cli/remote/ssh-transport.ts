import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Duplex, PassThrough, type Readable } from 'node:stream';
import type { SshHost } from './ssh-host.js';

/** An ssh_config file for every ssh run (`ssh -F FILE`): keys, known hosts and options belong there, never in `--host`. */
export const SSH_CONFIG_ENV = 'CUTOVER_SSH_CONFIG';

/** ssh's own exit status for its failures (connection, authentication, host key). */
const SSH_FAILED = 255;
const KEPT_STDERR_CHARS = 2_000;

/** Quotes one word for the POSIX shell ssh runs the remote command with. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The argv of `ssh` running `remote` (a cutover command) on the target: no shell on this side,
 * `-l USER -- HOST` so that nothing in the host string is read as an option, no terminal, no
 * password prompt (a CI job has nobody to answer it).
 *
 * @example
 * sshArgv({ user: 'deploy', host: 'web1', port: 2222, dir: '/srv/shop' }, ['cutover', 'dial-stdio', '--dir', '/srv/shop'], {});
 * // ['-T', '-o', 'BatchMode=yes', '-p', '2222', '-l', 'deploy', '--', 'web1', "'cutover'", "'dial-stdio'", "'--dir'", "'/srv/shop'"]
 */
export function sshArgv(target: SshHost, remote: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const args = ['-T', '-o', 'BatchMode=yes'];
  const config = env[SSH_CONFIG_ENV];
  if (config) args.push('-F', path.resolve(config));
  if (target.port !== null) args.push('-p', String(target.port));
  args.push('-l', target.user, '--', target.host, ...remote.map(shellQuote));
  return args;
}

/** The remote `cutover` command line for a subcommand, in the target's config directory. */
export function remoteCutover(target: SshHost, subcommand: readonly string[]): string[] {
  return ['cutover', ...subcommand, ...(target.dir === null ? [] : ['--dir', target.dir])];
}

/** Runs ssh with `remote`; its stderr is kept (bounded) for the error message. */
export function spawnSsh(target: SshHost, remote: readonly string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn('ssh', sshArgv(target, remote), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < KEPT_STDERR_CHARS) stderr += chunk.toString('utf8').slice(0, KEPT_STDERR_CHARS - stderr.length);
  });
  return { child, stderr: () => stderr.trim() };
}

/** Why an ssh run failed, for a message. */
export function sshFailure(code: number | null, signal: string | null, stderr: string): string {
  const how = signal !== null ? `ssh ended by ${signal}` : code === SSH_FAILED ? 'ssh failed' : `the remote cutover exited ${code}`;
  return stderr ? `${how}: ${stderr}` : how;
}

/**
 * A byte stream to the daemon's admin socket on the target, as Docker contexts do: `ssh HOST
 * cutover dial-stdio` bridges its stdin and stdout to the socket there. The admin API client
 * speaks HTTP over it (one ssh per connection). The stream ends once ssh has exited; when ssh
 * or the remote side failed, it errors with ssh's message instead.
 */
export function dialSsh(target: SshHost): Duplex {
  const { child, stderr } = spawnSsh(target, remoteCutover(target, ['dial-stdio']));
  const readable = new PassThrough();
  child.stdout!.pipe(readable, { end: false });
  const stream = Duplex.from({ readable, writable: child.stdin! }) as Duplex & SocketLike;
  child.on('error', (error) => readable.destroy(new Error(`cannot run ssh: ${error.message}`)));
  child.on('close', (code, signal) => {
    if (code === 0) readable.end();
    else readable.destroy(new Error(sshFailure(code, signal, stderr())));
  });
  stream.on('close', () => {
    child.stdin!.destroy();
    // The answer is in; a remote side that does not notice the end is not waited for.
    if (child.exitCode === null) setTimeout(() => child.kill(), 5_000).unref();
  });
  addSocketMethods(stream, child.stdout!);
  return stream;
}

/** What Node's HTTP client calls on a connection besides reading and writing. */
interface SocketLike {
  setTimeout(ms: number, onTimeout?: () => void): SocketLike;
  setNoDelay(): SocketLike;
  setKeepAlive(): SocketLike;
  ref(): SocketLike;
  unref(): SocketLike;
}

/** An idle timeout like a socket's ('timeout' after `ms` without bytes in), and no-ops for the rest. */
function addSocketMethods(stream: Duplex & SocketLike, incoming: Readable): void {
  let timer: NodeJS.Timeout | undefined;
  let idleMs = 0;
  const arm = (): void => {
    clearTimeout(timer);
    if (idleMs > 0) timer = setTimeout(() => stream.emit('timeout'), idleMs);
  };
  incoming.on('data', arm);
  stream.on('close', () => clearTimeout(timer));
  stream.setTimeout = (ms, onTimeout) => {
    idleMs = ms;
    if (onTimeout) stream.once('timeout', onTimeout);
    arm();
    return stream;
  };
  stream.setNoDelay = () => stream;
  stream.setKeepAlive = () => stream;
  stream.ref = () => stream;
  stream.unref = () => stream;
}
