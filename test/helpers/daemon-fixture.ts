import { execFileSync, spawn } from 'node:child_process';
import { after, before, type TestContext } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverClient } from '../../src/api/client.js';
import { findFreePort } from '../../src/runtime/local/free-port.js';
import type { StatusReport } from '../../src/protocol/status.js';
import { repoRoot } from './repo.js';
import { killLeftoverHaproxy } from './haproxy.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface AppOptions {
  replicas?: number;
  env?: Record<string, string>;
  extra?: string;
  stopTimeout?: string;
  startupTimeout?: string;
  rolling?: string;
  /** The whole strategy block's content, e.g. `canary: { steps: [...] }`; default: rolling. */
  strategy?: string;
  /** The app's router block's content, e.g. `haproxy: { mode: managed }`; default: none (built-in). */
  router?: string;
}

/** A config for the sample app in examples/demo, tuned for fast tests. */
export function sampleAppConfig(port: number, options: AppOptions = {}): string {
  const env = { VERSION: '1', ...options.env };
  return [
    'apps:',
    '  web:',
    `    listen: 127.0.0.1:${port}`,
    '    run:',
    `      command: [${JSON.stringify(process.execPath)}, server.js]`,
    `      cwd: ${JSON.stringify(path.join(repoRoot(), 'examples', 'demo'))}`,
    `      env: ${JSON.stringify(env)}`,
    `    replicas: ${options.replicas ?? 3}`,
    `    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: ${options.startupTimeout ?? '3s'} }`,
    '    drainTimeout: 10s',
    `    stopTimeout: ${options.stopTimeout ?? '5s'}`,
    '    strategy:',
    `      ${options.strategy ?? `rolling: ${options.rolling ?? '{ maxSurge: 1, maxUnavailable: 0 }'}`}`,
    ...(options.router ? ['    router:', `      ${options.router}`] : []),
    options.extra ?? '',
  ].join('\n');
}

/**
 * Given a daemon: a scratch dir, a config, `cutover up --detach`, and a teardown that stops
 * it with `cutover down` and then makes sure no process it started is left.
 */
export class DaemonFixture {
  readonly dir: string;
  readonly configPath: string;
  readonly dataDir: string;
  readonly client: CutoverClient;
  private readonly seenPids = new Set<number>();

  private constructor(readonly port: number) {
    // Short paths: a unix socket path must stay under 108 bytes.
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-'));
    this.configPath = path.join(this.dir, 'cutover.yaml');
    this.dataDir = path.join(this.dir, 'data');
    this.client = new CutoverClient({ socketPath: path.join(this.dataDir, 'cutover.sock') });
  }

  /**
   * `env` goes to `cutover up`, and so to the daemon (e.g. the crash switch); `upArgs` are extra flags of `up`;
   * `runUp` runs `up` another way (e.g. from a process that hands it sockets), given its arguments.
   */
  static async start(
    config: (port: number) => string,
    options: {
      env?: NodeJS.ProcessEnv;
      upArgs?: string[];
      beforeUp?: (fixture: DaemonFixture) => void;
      runUp?: (fixture: DaemonFixture, args: string[]) => Promise<CliResult>;
    } = {},
  ): Promise<DaemonFixture> {
    const fixture = new DaemonFixture(await findFreePort());
    fixture.writeConfig(config(fixture.port));
    options.beforeUp?.(fixture);
    const upArgs = ['up', '--detach', ...(options.upArgs ?? [])];
    const up = options.runUp ? await options.runUp(fixture, upArgs) : await fixture.cli(upArgs, { env: options.env });
    if (up.code !== 0) {
      const log = fs.existsSync(path.join(fixture.dataDir, 'daemon.log')) ? fs.readFileSync(path.join(fixture.dataDir, 'daemon.log'), 'utf8') : '';
      await fixture.stop();
      throw new Error(`cutover up failed (${up.code}): ${up.stderr}\n${log}`);
    }
    return fixture;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  writeConfig(text: string): void {
    fs.writeFileSync(this.configPath, text);
  }

  cli(args: string[], options: { withGlobals?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
    const globals = options.withGlobals === false ? [] : ['-c', this.configPath, '--data-dir', this.dataDir];
    return runCli([...args, ...globals], { env: options.env });
  }

  async status(): Promise<StatusReport> {
    const report = await this.client.status();
    for (const app of report.apps) for (const i of app.instances) if (i.pid) this.seenPids.add(i.pid);
    return report;
  }

  /** Stops the daemon and kills, by PID, anything of ours that outlived it. */
  async stop(): Promise<void> {
    await this.status().catch(() => undefined);
    await this.cli(['down']).catch(() => undefined);
    const pidFile = path.join(this.dataDir, 'daemon.pid');
    const daemonPid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : null;
    if (daemonPid) killQuietly(daemonPid);
    for (const pid of this.seenPids) killQuietly(-pid);
    killLeftoverHaproxy(path.join(this.dataDir, 'haproxy'));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Tears down at once, without draining: SIGKILL to the daemon's process group (primary,
   * workers, controller) and to every instance group seen. For tests that check nothing after.
   */
  async kill(): Promise<void> {
    await this.status().catch(() => undefined);
    const pidFile = path.join(this.dataDir, 'daemon.pid');
    const daemonPid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : null;
    if (daemonPid) killQuietly(-daemonPid);
    for (const pid of this.seenPids) killQuietly(-pid);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** SIGKILLs the controller and waits for the primary to have started another; returns the new pid. */
  async killController(): Promise<number> {
    const { pid: killed } = await this.client.health();
    process.kill(killed, 'SIGKILL');
    let replacement = killed;
    await waitFor('a new controller', async () => {
      replacement = (await this.client.health().catch(() => null))?.pid ?? killed;
      return replacement !== killed;
    });
    return replacement;
  }

  /** The pids of the daemon's proxy workers (children of the primary running worker-main.js), ascending. */
  workerPids(): number[] {
    const primary = fs.readFileSync(path.join(this.dataDir, 'daemon.pid'), 'utf8').trim();
    const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', primary], { encoding: 'utf8' });
    return out
      .split('\n')
      .filter((line) => line.includes('worker-main'))
      .map((line) => Number(line.trim().split(/\s+/)[0]))
      .sort((a, b) => a - b);
  }

  /**
   * `cutover reload`, then waits until as many proxy workers as before run and none of the old
   * ones is left (they drained). Returns the new workers' pids.
   */
  async reloadWorkers(): Promise<number[]> {
    const old = this.workerPids();
    const result = await this.cli(['reload']);
    if (result.code !== 0) throw new Error(`cutover reload exited ${result.code}: ${result.stderr}`);
    await waitFor(
      'new workers and the old ones gone',
      () => {
        const now = this.workerPids();
        return now.length === old.length && now.every((pid) => !old.includes(pid));
      },
      60_000,
    );
    return this.workerPids();
  }

  /** The daemon's last log lines, to explain a failed assertion. */
  logTail(lines = 40): string {
    const file = path.join(this.dataDir, 'daemon.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no daemon log)';
  }

  /** Every instance pid the fixture has seen, to check none is left. */
  get instancePids(): number[] {
    return [...this.seenPids];
  }
}

/** Given a daemon for the tests of one describe block: started before them, stopped after them. */
export function givenDaemon(config: (port: number) => string): () => DaemonFixture {
  let daemon: DaemonFixture | undefined;
  before(async () => {
    daemon = await DaemonFixture.start(config);
  });
  after(async () => daemon?.stop());
  return () => daemon!;
}

/**
 * Given a daemon for one test alone: started now, stopped when that test ends, whatever its
 * outcome. For a test that changes the daemon's state, so no other test depends on its order.
 */
export async function givenDaemonForTest(t: TestContext, config: (port: number) => string): Promise<DaemonFixture> {
  const daemon = await DaemonFixture.start(config);
  t.after(() => daemon.stop());
  return daemon;
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'cutover.js'), ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export function isProcessGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone: what we hoped.
  }
}
