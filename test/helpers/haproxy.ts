import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { externalProgram } from './external-program.js';
import { RuntimeApi } from '../../src/router/haproxy/runtime-api.js';

const found = externalProgram('haproxy');

/**
 * Why HAProxy tests skip: it is not installed. Under CI (CUTOVER_REQUIRE_EXTERNAL=1) a missing
 * binary fails them instead (`externalProgram` throws).
 */
export const haproxySkip: string | false = 'skip' in found ? `skipped: ${found.skip}` : false;

/** An HAProxy the test runs itself (the "existing HAProxy" of external mode): master-worker, in its own process group. */
export class TestHaproxy {
  private constructor(
    readonly child: ChildProcess,
    readonly api: RuntimeApi,
    readonly masterSocket: string,
  ) {}

  static async start(configFile: string, statsSocket: string): Promise<TestHaproxy> {
    const masterSocket = path.join(path.dirname(configFile), 'master.sock');
    const log = fs.openSync(path.join(path.dirname(configFile), 'haproxy.log'), 'a');
    const child = spawn('haproxy', ['-W', '-S', masterSocket, '-f', configFile], { detached: true, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const api = new RuntimeApi(statsSocket);
    const deadline = performance.now() + 10_000;
    while (
      !(await api.send('show info').then(
        () => true,
        () => false,
      ))
    ) {
      if (child.exitCode !== null || performance.now() > deadline)
        throw new Error(`haproxy did not start: ${fs.readFileSync(path.join(path.dirname(configFile), 'haproxy.log'), 'utf8')}`);
      await sleep(25);
    }
    return new TestHaproxy(child, api, masterSocket);
  }

  /** Kills the whole process group this test started (by its pid, never by name). */
  async stop(): Promise<void> {
    if (this.child.pid === undefined || this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      return;
    }
    await exited;
  }
}

/** Kills a managed HAProxy left in a data dir (its pid file), by pid. */
export function killLeftoverHaproxy(dir: string): void {
  const pidFile = path.join(dir, 'haproxy.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  try {
    if (pid > 0) process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}
