import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError } from '../../errors.js';
import { RuntimeApi } from './runtime-api.js';

const START_TIMEOUT_MS = 10_000;
const RELOAD_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 25;

/** The files of a managed HAProxy, all in one directory of the data dir. */
export interface ManagedPaths {
  dir: string;
  config: string;
  statsSocket: string;
  masterSocket: string;
  pidFile: string;
  logFile: string;
  mapsDir: string;
}

export function managedPaths(dir: string): ManagedPaths {
  return {
    dir,
    config: path.join(dir, 'haproxy.cfg'),
    statsSocket: path.join(dir, 'admin.sock'),
    masterSocket: path.join(dir, 'master.sock'),
    pidFile: path.join(dir, 'haproxy.pid'),
    logFile: path.join(dir, 'haproxy.log'),
    mapsDir: path.join(dir, 'maps'),
  };
}

/**
 * An HAProxy that cutover runs itself: master-worker mode (`-W`) with a master socket (`-S`),
 * in its own process group so it outlives a controller restart (the next controller adopts it
 * through the pid file and the master socket). Every config is checked with `haproxy -c`
 * before it is installed.
 */
export class ManagedHaproxy {
  readonly paths: ManagedPaths;
  readonly stats: RuntimeApi;
  readonly master: RuntimeApi;

  constructor(
    dir: string,
    private readonly binary: string,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.paths = managedPaths(dir);
    fs.mkdirSync(this.paths.mapsDir, { recursive: true, mode: 0o700 });
    this.stats = new RuntimeApi(this.paths.statsSocket);
    this.master = new RuntimeApi(this.paths.masterSocket);
  }

  /** The master's pid when it runs (from the pid file), else null. */
  masterPid(): number | null {
    try {
      const pid = Number(fs.readFileSync(this.paths.pidFile, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0) return null;
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  /** Checks a config with `haproxy -c`, then installs it (an atomic rename). */
  async install(text: string): Promise<void> {
    const candidate = `${this.paths.config}.new`;
    fs.writeFileSync(candidate, text, { mode: 0o600 });
    await this.check(candidate);
    fs.renameSync(candidate, this.paths.config);
  }

  /** Rewrites the installed config without a check: used for server lines only, whose shape was checked. */
  rewrite(text: string): void {
    const candidate = `${this.paths.config}.new`;
    fs.writeFileSync(candidate, text, { mode: 0o600 });
    fs.renameSync(candidate, this.paths.config);
  }

  private check(file: string): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.binary, ['-c', '-q', '-f', file], { timeout: 30_000 }, (error, stdout, stderr) => {
        if (!error) return resolve();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return reject(notInstalled(this.binary, error));
        reject(
          new CutoverError(
            'HAPROXY_CONFIG_INVALID',
            `haproxy -c rejected the generated config ${file}: ${`${stderr}${stdout}`.trim().split('\n').slice(-5).join(' | ')}`,
            { hint: 'This is likely a bug in cutover; the file is kept for a report.', cause: error },
          ),
        );
      });
    });
  }

  /** Adopts a running master, or starts one on the installed config; resolves once the stats socket answers. */
  async start(): Promise<'adopted' | 'started'> {
    if (
      this.masterPid() !== null &&
      (await this.master.send('show proc').then(
        () => true,
        () => false,
      ))
    )
      return 'adopted';
    for (const socket of [this.paths.statsSocket, this.paths.masterSocket]) fs.rmSync(socket, { force: true });
    const logFd = fs.openSync(this.paths.logFile, 'a', 0o600);
    const child = spawn(this.binary, ['-W', '-S', `${this.paths.masterSocket},mode,600`, '-f', this.paths.config], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    fs.closeSync(logFd);
    const spawned = await new Promise<number>((resolve, reject) => {
      child.once('error', (error) => reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? notInstalled(this.binary, error) : error));
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    fs.writeFileSync(this.paths.pidFile, `${spawned}\n`, { mode: 0o600 });
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (
      !(await this.stats.send('show info').then(
        () => true,
        () => false,
      ))
    ) {
      if (child.exitCode !== null || performance.now() > deadline) {
        throw new CutoverError('HAPROXY_START_FAILED', `HAProxy did not start (see ${this.paths.logFile}): ${this.logTail()}`);
      }
      await sleep(POLL_MS);
    }
    this.log(`HAProxy started (master pid ${spawned}, config ${this.paths.config})`);
    return 'started';
  }

  /** Reloads through the master socket; resolves once a new worker answers on the stats socket. */
  async reload(): Promise<void> {
    const before = (await this.stats.showInfo().catch(() => ({}) as Record<string, string>))['Pid'];
    await this.master.send('reload');
    const deadline = performance.now() + RELOAD_TIMEOUT_MS;
    for (;;) {
      const pid = (await this.stats.showInfo().catch(() => ({}) as Record<string, string>))['Pid'];
      if (pid !== undefined && pid !== before) return;
      if (performance.now() > deadline)
        throw new CutoverError('HAPROXY_RELOAD_FAILED', `HAProxy did not come back within ${RELOAD_TIMEOUT_MS}ms of a reload: ${this.logTail()}`);
      await sleep(POLL_MS);
    }
  }

  /** Soft stop (SIGUSR1: finish what is in flight), then SIGKILL to the group after the timeout. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    const pid = this.masterPid();
    if (pid === null) return;
    signal(pid, 'SIGUSR1');
    const deadline = performance.now() + timeoutMs;
    while (isAlive(pid) && performance.now() < deadline) await sleep(POLL_MS);
    if (isAlive(pid)) signal(-pid, 'SIGKILL');
    fs.rmSync(this.paths.pidFile, { force: true });
    this.log(`HAProxy stopped (master pid ${pid})`);
  }

  private logTail(): string {
    try {
      return fs.readFileSync(this.paths.logFile, 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      return '(no log)';
    }
  }
}

function notInstalled(binary: string, cause: unknown): CutoverError {
  return new CutoverError('HAPROXY_NOT_INSTALLED', `the HAProxy binary "${binary}" was not found`, {
    hint: 'Install it (Debian: apt-get install haproxy) or set router.haproxy.binary.',
    cause,
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
