/**
 * `npm run soak [-- --rounds N --clients C]`: the crash schedule of test/crash-safety.test.ts, for
 * longer. Each round runs every scenario (rolling, blue-green with promote, canary with promote,
 * canary with abort) once with the controller killed at a random time, and once per transition
 * it stores, killed right after it (on a fresh daemon armed with CUTOVER_CRASH_AFTER, at a random
 * occurrence of that transition). Prints counts; exits 1 on the first broken guarantee.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CRASH_AFTER_ENV } from '../src/controller/crash-switch.js';
import { LoadClient } from '../src/load/load-client.js';
import { DaemonFixture } from '../test/helpers/daemon-fixture.js';
import {
  crashConfig,
  InvariantChecker,
  MARKER_ENV,
  orphans,
  processesWithEnv,
  runScenario,
  SCENARIOS,
  type Scenario,
} from '../test/helpers/crash-scenarios.js';

const RESUME_LIMIT_MS = 10_000;

interface Counts {
  runs: number;
  kills: number;
  requests: number;
  failed: number;
  breaches: number;
  orphans: number;
  slowResumes: number;
  maxResumeMs: number;
}

function flag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
}

export async function run(args: string[]): Promise<void> {
  const rounds = flag(args, '--rounds', 3);
  const clients = flag(args, '--clients', 32);
  const counts: Counts = { runs: 0, kills: 0, requests: 0, failed: 0, breaches: 0, orphans: 0, slowResumes: 0, maxResumeMs: 0 };
  const problems: string[] = [];
  const started = performance.now();

  const newLoad = (daemon: DaemonFixture): LoadClient =>
    new LoadClient({ origin: daemon.origin, clients, postShare: 0.25, pauseMs: () => 10 + Math.random() * 20, maxDurationMs: 3_600_000 });

  const record = async (daemon: DaemonFixture, marker: string, resumedInMs: number | null, what: string): Promise<void> => {
    counts.runs += 1;
    if (resumedInMs !== null) {
      counts.maxResumeMs = Math.max(counts.maxResumeMs, resumedInMs);
      if (resumedInMs >= RESUME_LIMIT_MS) {
        counts.slowResumes += 1;
        problems.push(`${what}: resumed after ${Math.round(resumedInMs)}ms`);
      }
    }
    const left = orphans(await daemon.status(), { name: MARKER_ENV, value: marker });
    counts.orphans += left.length;
    if (left.length) problems.push(`${what}: orphans ${left.join(', ')}`);
  };

  /** A daemon's load and invariant sampler are done: add up what they saw. */
  const settle = async (what: string, load: LoadClient, checker: InvariantChecker): Promise<void> => {
    const breaches = await checker.stop();
    const report = await load.stop();
    counts.requests += report.requests;
    counts.failed += report.failed;
    counts.breaches += breaches.length;
    if (report.failed) problems.push(`${what}: ${report.failed} failed requests, e.g. ${JSON.stringify(report.failures.slice(0, 3))}`);
    if (breaches.length) problems.push(`${what}: ${breaches.join('; ')}`);
  };

  for (let round = 1; round <= rounds; round++) {
    for (const scenario of SCENARIOS) {
      // Random kills on one long-lived daemon per scenario.
      const marker = randomBytes(6).toString('hex');
      const daemon = await DaemonFixture.start((port) => crashConfig(port, marker, null));
      const load = newLoad(daemon);
      const checker = new InvariantChecker(daemon);
      load.start();
      checker.start();
      let transitions: string[] = [];
      try {
        const t0 = performance.now();
        const reference = await runScenario(daemon, marker, scenario, 2);
        const referenceMs = performance.now() - t0;
        const { events } = await daemon.client.events({ rolloutId: reference.rolloutId });
        transitions = events.map((e) => e.kind);
        for (let n = 0; n < 5; n++) {
          const killer = sleep(Math.random() * referenceMs).then(() => daemon.killController());
          const result = await runScenario(daemon, marker, scenario, 3 + n);
          await killer;
          counts.kills += 1;
          await record(daemon, marker, result.resumedInMs, `round ${round} ${scenario.name} random kill ${n}`);
        }
      } catch (error) {
        problems.push(`round ${round} ${scenario.name}: ${(error as Error).message}`);
      } finally {
        await settle(`round ${round} ${scenario.name} random kills`, load, checker);
        await daemon.kill();
      }

      // One armed daemon per distinct transition, crashing at a random occurrence of it.
      const occurrences = new Map<string, number>();
      for (const kind of transitions) occurrences.set(kind, (occurrences.get(kind) ?? 0) + 1);
      for (const [kind, total] of occurrences) {
        const n = 1 + Math.floor(Math.random() * total);
        await armedRun(scenario, `${kind}:${n}`, `round ${round} ${scenario.name} after ${kind}:${n}`);
      }
      printCounts(counts, started, problems.length);
    }
  }

  async function armedRun(scenario: Scenario, crashAfter: string, what: string): Promise<void> {
    const marker = randomBytes(6).toString('hex');
    let daemon: DaemonFixture | null = null;
    try {
      daemon = await DaemonFixture.start((port) => crashConfig(port, marker, null), { env: { [CRASH_AFTER_ENV]: crashAfter } });
      const load = newLoad(daemon);
      const checker = new InvariantChecker(daemon);
      load.start();
      checker.start();
      try {
        const result = await runScenario(daemon, marker, scenario, 2);
        counts.kills += result.controllerRestarts;
        if (result.controllerRestarts !== 1) problems.push(`${what}: the controller restarted ${result.controllerRestarts} times`);
        await record(daemon, marker, result.resumedInMs, what);
      } finally {
        await settle(what, load, checker);
      }
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
    } finally {
      await daemon?.kill();
      await sleep(200);
      const strays = processesWithEnv(MARKER_ENV, marker);
      for (const pid of strays) process.kill(pid, 'SIGKILL');
      counts.orphans += strays.length;
    }
  }

  printCounts(counts, started, problems.length);
  for (const problem of problems) console.log(`problem: ${problem}`);
  process.exitCode = problems.length === 0 && counts.failed === 0 ? 0 : 1;
}

function printCounts(counts: Counts, startedMs: number, problems: number): void {
  const minutes = ((performance.now() - startedMs) / 60_000).toFixed(1);
  console.log(
    `${minutes} min: ${counts.runs} runs, ${counts.kills} controller kills, ${counts.requests} requests, ${counts.failed} failed, ` +
      `${counts.breaches} invariant breaches, ${counts.orphans} orphans, slowest resume ${Math.round(counts.maxResumeMs)}ms, ${problems} problems`,
  );
}
