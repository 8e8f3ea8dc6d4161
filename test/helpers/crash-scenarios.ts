import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError } from '../../src/errors.js';
import type { StrategyName } from '../../src/model/rollout.js';
import type { StatusReport } from '../../src/protocol/status.js';
import { loadConfig } from '../../src/config/index.js';
import { sampleAppConfig, type DaemonFixture } from './daemon-fixture.js';

/**
 * Crash scenarios shared by the crash-safety test and `npm run soak`: a rollout driven through
 * the API to its end while the controller may die at any moment, and the invariants that must
 * hold at every sample meanwhile.
 */
export const REPLICAS = 2;
export const MAX_UNAVAILABLE = 0;

export interface Scenario {
  name: string;
  strategy: StrategyName;
  /** What a person does at a gate. */
  atGate: 'promote' | 'abort' | null;
  /** The phase the rollout must end in. */
  end: 'promoted' | 'aborted';
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'rolling', strategy: 'rolling', atGate: null, end: 'promoted' },
  { name: 'blue-green with promote', strategy: 'blue-green', atGate: 'promote', end: 'promoted' },
  { name: 'canary with promote', strategy: 'canary', atGate: 'promote', end: 'promoted' },
  { name: 'canary with abort', strategy: 'canary', atGate: 'abort', end: 'aborted' },
];

/** The marker every app process of a crash test carries in its environment, to find orphans. */
export const MARKER_ENV = 'CRASH_TEST_RUN';

/** A config for the crash tests: the sample app with `scenario`'s strategy and short delays, so a run converges fast. */
export function crashConfig(port: number, marker: string, scenario: Scenario | null, version = 1): string {
  const strategy =
    scenario?.strategy === 'blue-green'
      ? 'blueGreen: { scaleDownDelay: 300ms, abortScaleDownDelay: 300ms }'
      : scenario?.strategy === 'canary'
        ? 'canary: { steps: [{ setWeight: 34 }, { pause: {} }], abortScaleDownDelay: 300ms }'
        : `rolling: { maxSurge: 1, maxUnavailable: ${MAX_UNAVAILABLE} }`;
  return sampleAppConfig(port, { replicas: REPLICAS, env: { VERSION: String(version), KEEPALIVE_MS: '1000', [MARKER_ENV]: marker }, strategy });
}

/** Breaches of the invariants, in words; empty when every sample held them. */
export class InvariantChecker {
  readonly breaches: string[] = [];
  samples = 0;
  private isRunning = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly daemon: DaemonFixture) {}

  start(): void {
    this.isRunning = true;
    this.loop = (async () => {
      while (this.isRunning) {
        await this.sample().catch(() => undefined); // The controller may be down: no sample then.
        await sleep(50);
      }
    })();
  }

  /** Resolves once `count` samples were taken, or after `timeoutMs` (the caller asserts the count). */
  async reach(count: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.isRunning && this.samples < count && performance.now() < deadline) await sleep(50);
  }

  async stop(): Promise<string[]> {
    this.isRunning = false;
    await this.loop;
    return this.breaches;
  }

  private async sample(): Promise<void> {
    const status = await this.daemon.status();
    const history = await this.daemon.client.history('web');
    this.samples += 1;
    for (const breach of checkInvariants(status, history.rollouts)) if (this.breaches.length < 20) this.breaches.push(breach);
  }
}

export function checkInvariants(status: StatusReport, rollouts: readonly { id: number; phase: string }[]): string[] {
  const breaches: string[] = [];
  for (const app of status.apps) {
    const ready = app.instances.filter((i) => i.state === 'ready').length;
    if (app.revision !== null && ready < REPLICAS - MAX_UNAVAILABLE)
      breaches.push(`${app.name}: ${ready} ready instances, fewer than ${REPLICAS} − ${MAX_UNAVAILABLE}`);
    const active = rollouts.filter((r) => r.phase === 'progressing' || r.phase === 'paused');
    if (active.length > 1) breaches.push(`${app.name}: ${active.length} active rollouts (${active.map((r) => r.id).join(', ')})`);
    const rollout = app.rollout;
    if (rollout?.phase === 'aborted') {
      const share = app.traffic.find((t) => t.revision === rollout.toRevision);
      if (share && share.weight > 0) breaches.push(`${app.name}: aborted revision ${rollout.toRevision} still has weight ${share.weight}`);
    }
  }
  return breaches;
}

function isUnreachable(error: unknown): boolean {
  return error instanceof CutoverError && (error.code === 'DAEMON_UNREACHABLE' || error.code === 'DAEMON_STOPPING');
}

/** Calls the API until the controller answers (it may be restarting). */
async function whenUp<T>(action: () => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await action();
    } catch (error) {
      if (!isUnreachable(error) || performance.now() > deadline) throw error;
      await sleep(25);
    }
  }
}

export interface RunResult {
  rolloutId: number;
  /** Milliseconds from the first controller restart seen to the correct end; null when none was seen. */
  resumedInMs: number | null;
  controllerRestarts: number;
}

/**
 * Runs one rollout of `scenario` to its end: deploy, and at a gate promote or abort. Survives
 * the controller dying at any point (calls are retried once it is back, without repeating what
 * was done). `onStarted` runs once the rollout exists (a test kills the controller from there).
 * Resolves once the app converged: the rollout ended as expected, only the stable revision
 * runs at full size, and it has all the traffic.
 */
export async function runScenario(
  daemon: DaemonFixture,
  marker: string,
  scenario: Scenario,
  version: number,
  options: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  const controllers = new Set<number>();
  let firstRestartAt: number | null = null;
  const watchController = async (): Promise<void> => {
    const health = await daemon.client.health().catch(() => null);
    if (!health) return;
    if (controllers.size > 0 && !controllers.has(health.pid) && firstRestartAt === null) firstRestartAt = performance.now();
    controllers.add(health.pid);
  };
  await whenUp(watchController, deadline);

  const before = (await whenUp(() => daemon.client.history('web'), deadline)).rollouts[0]?.id ?? 0;
  daemon.writeConfig(crashConfig(daemon.port, marker, scenario, version));
  const config = loadConfig(daemon.configPath);
  let rolloutId: number | null = null;
  while (rolloutId === null) {
    try {
      const { results } = await daemon.client.deploy(config.apps);
      rolloutId = results[0]!.rolloutId;
      if (rolloutId === null) throw new Error(`version ${version} made no new revision`);
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      // The controller died during the call: the rollout may exist already.
      const latest = (await whenUp(() => daemon.client.history('web'), deadline)).rollouts[0];
      if (latest && latest.id > before) rolloutId = latest.id;
    }
    if (performance.now() > deadline) throw new Error('could not start the rollout');
  }

  let stable: number | null = null;
  for (;;) {
    if (performance.now() > deadline) throw new Error(`rollout ${rolloutId} did not reach its end in time:\n${daemon.logTail(30)}`);
    await watchController();
    let status: StatusReport;
    try {
      status = await daemon.status();
    } catch {
      await sleep(25);
      continue;
    }
    const web = status.apps[0]!;
    const rollout = web.rollout!;
    if (rollout.id === rolloutId && rollout.phase === 'paused' && rollout.gate !== null && scenario.atGate) {
      try {
        if (scenario.atGate === 'promote') await daemon.client.promote('web', { full: true });
        else await daemon.client.abort('web');
      } catch (error) {
        if (!isUnreachable(error)) throw error;
      }
      continue;
    }
    if (rollout.id === rolloutId && (rollout.phase === 'progressing' || rollout.phase === 'paused')) {
      await sleep(25);
      continue;
    }
    if (rollout.id !== rolloutId || rollout.phase !== scenario.end) {
      throw new Error(`rollout ${rolloutId} ended ${rollout.phase} (${rollout.reason ?? ''}), expected ${scenario.end}:\n${daemon.logTail(30)}`);
    }
    stable = scenario.end === 'promoted' ? rollout.toRevision : rollout.fromRevision;
    if (web.revision !== stable) throw new Error(`stable revision is ${web.revision}, expected ${stable}`);
    const live = web.instances.filter((i) => i.state !== 'stopped' && i.state !== 'failed');
    const isConverged =
      live.length === REPLICAS &&
      live.every((i) => i.state === 'ready' && i.revision === stable) &&
      web.traffic.length === 1 &&
      web.traffic[0]!.revision === stable &&
      web.traffic[0]!.weight === 100;
    if (isConverged) break;
    await sleep(25);
  }
  const ended = performance.now();
  return { rolloutId, resumedInMs: firstRestartAt === null ? null : ended - firstRestartAt, controllerRestarts: controllers.size - 1 };
}

/** Pids of processes whose environment holds NAME=VALUE: how a test finds every process it caused, tracked or not. */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`${name}=${value}\0`);
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`).includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

/** App processes carrying the marker that are not live instances in the status: orphans. */
export function orphans(status: StatusReport, marker: { name: string; value: string }): number[] {
  const live = new Set(status.apps.flatMap((a) => a.instances.filter((i) => i.state !== 'stopped' && i.state !== 'failed').map((i) => i.pid)));
  return processesWithEnv(marker.name, marker.value).filter((pid) => !live.has(pid) && isStillThere(pid));
}

function isStillThere(pid: number): boolean {
  try {
    // A zombie is gone for our purposes: it holds no port and runs no code.
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
