import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverClient } from '../api/client.js';
import { isAlive, readPid } from '../daemon/daemon-lock.js';
import { dataDirLayout, type DataDirLayout } from '../daemon/data-dir.js';

/** Compiled to dist/src/cli/, so the bin shim is three levels up. */
const BIN = fileURLToPath(new URL('../../../bin/cutover.js', import.meta.url));
/** `cutover down` drains every instance first; it has two minutes of its own. */
const DOWN_GRACE_MS = 150_000;

export interface CutoverRun {
  code: number;
  /** Empty when the output went to ours. */
  stdout: string;
  stderr: string;
}

/**
 * Runs the cutover CLI in a child process, as a user would: its output goes to ours
 * (`inherit`) or is kept for the caller (`capture`). Resolves with its exit code.
 *
 * @example const { code } = await runCutover(['status', '-c', configPath]);
 */
export function runCutover(args: string[], output: 'inherit' | 'capture' = 'inherit'): Promise<CutoverRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', output === 'inherit' ? 'inherit' : 'pipe', output === 'inherit' ? 'inherit' : 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => resolve({ code: 1, stdout, stderr: `${stderr}${error.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Checks `condition` every 100 ms until it holds (true) or `timeoutMs` passed (false). */
export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (performance.now() > deadline) return false;
    await sleep(100);
  }
}

/**
 * A daemon of its own, for a command that must leave the user's daemon alone: a private scratch
 * dir (mode 0700) holding its config and data dir, so its admin socket, pid file, state and
 * logs are its own; started with `cutover up --detach`, stopped with `cutover down`, and the
 * dir removed.
 */
export class ScratchDaemon {
  readonly dir: string;
  readonly configPath: string;
  readonly layout: DataDirLayout;
  readonly client: CutoverClient;

  /** `prefix` names the dir in the temp dir; keep it short (a unix socket path has 107 bytes). */
  constructor(prefix: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(this.dir, 0o700);
    this.configPath = path.join(this.dir, 'cutover.yaml');
    this.layout = dataDirLayout(path.join(this.dir, 'data'));
    this.client = new CutoverClient({ socketPath: this.layout.socket });
  }

  /** The flags that point a cutover command at this daemon. */
  get globals(): string[] {
    return ['-c', this.configPath, '--data-dir', this.layout.root];
  }

  /** `cutover up --detach`: returns once the config's apps serve (exit 0) or failed to (1). */
  up(): Promise<CutoverRun> {
    return runCutover(['up', '--detach', ...this.globals], 'capture');
  }

  /** The daemon's last log lines, to say why it did not start. */
  logTail(lines = 20): string {
    try {
      return fs.readFileSync(this.layout.daemonLog, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no daemon log)';
    }
  }

  /**
   * Stops every app gracefully and the daemon (`cutover down`), then removes the dir. A daemon
   * that outlives `down` is killed with its process group; returns what could not be cleaned.
   */
  async stop(): Promise<string[]> {
    const leftovers: string[] = [];
    const pid = readPid(this.layout.pidFile);
    if (pid !== null && isAlive(pid)) {
      await runCutover(['down', ...this.globals], 'capture');
      const isStopped = await waitFor(() => !isAlive(pid), DOWN_GRACE_MS);
      if (!isStopped) {
        leftovers.push(`the rehearsal daemon (pid ${pid}) did not stop; killed it, its apps may be left`);
        killGroup(pid);
      }
    }
    try {
      fs.rmSync(this.dir, { recursive: true, force: true });
    } catch (error) {
      leftovers.push(`could not remove ${this.dir}: ${(error as Error).message}`);
    }
    return leftovers;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
