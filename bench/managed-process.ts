import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A process the bench started, known by its pid, stopped by that pid only: SIGTERM (or the
 * signal given), then SIGKILL after a grace period. Output goes to a log file for post-mortems.
 */
export class ManagedProcess {
  private exited: Promise<void>;
  private hasExited = false;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => (this.hasExited = true));
    LIVE.add(this);
  }

  static start(name: string, command: string, args: string[], logDir: string, options: SpawnOptions = {}): ManagedProcess {
    const logFile = path.join(logDir, `${name.replace(/[^a-z0-9-]+/gi, '-')}.log`);
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(command, args, { ...options, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    return new ManagedProcess(name, child, logFile);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get isRunning(): boolean {
    return !this.hasExited;
  }

  /** The last lines of the process's output. */
  logTail(lines = 20): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    LIVE.delete(this);
    if (this.hasExited) return;
    signalPid(this.pid, signal);
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      signalPid(this.pid, 'SIGKILL');
      await this.exited;
    }
  }
}

const LIVE = new Set<ManagedProcess>();

/** Last resort on exit or Ctrl-C: SIGKILL every process still running, by pid. */
export function killAllStarted(): void {
  for (const process of LIVE) if (process.isRunning) signalPid(process.pid, 'SIGKILL');
  LIVE.clear();
}

export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Resolves once GET `url` answers 200; rejects after `timeoutMs` or when `process` exits. */
export async function waitForHttp(url: string, timeoutMs = 15_000, process?: ManagedProcess): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (process !== undefined && !process.isRunning) throw new Error(`${process.name} exited while starting:\n${process.logTail()}`);
    if ((await getStatus(url)) === 200) return;
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms${process ? `:\n${process.logTail()}` : ''}`);
    await sleep(50);
  }
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
  });
}
