import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadClient } from '../../src/loadgen/load-client.js';
import { CRASH_AFTER_ENV } from '../../src/controller/crash-switch.js';
import { DaemonFixture, waitFor } from './daemon-fixture.js';
import { crashConfig, InvariantChecker, MARKER_ENV, orphans, processesWithEnv, runScenario, SCENARIOS, type Scenario } from './crash-scenarios.js';

/** Random kills per scenario here; `npm run soak` runs many more. Four scenarios make 20. */
const RANDOM_KILLS_PER_SCENARIO = 5;
/** Kills that may land after a rollout already ended (each is run again); more fail the test. */
const MAX_MISSED_KILLS = RANDOM_KILLS_PER_SCENARIO;
/** A generous bound, not a performance threshold: a resumed rollout must not hang. */
const RESUME_LIMIT_MS = 10_000;
/**
 * Floors for the kill-after-each-transition runs, so a run that sampled nothing cannot pass: the
 * checker samples every 50 ms while the controller answers, and goes on after a run too short to
 * reach the floor (see `killAfter`).
 */
const MIN_SAMPLES_PER_TRANSITION = 5;
/** How long the checker may go on sampling after a run to reach that floor. */
const SAMPLE_FLOOR_WAIT_MS = 5_000;
const MIN_REQUESTS_PER_TRANSITION = 50;

function newLoad(daemon: DaemonFixture): LoadClient {
  // 32 keep-alive connections, each with a short think time: the two cores stay free enough for
  // the daemon, so a slow machine does not pass for a bug.
  return new LoadClient({ origin: daemon.origin, clients: 32, postShare: 0.25, pauseMs: () => 10 + Math.random() * 20, maxDurationMs: 600_000 });
}

/** The transitions each scenario stores, from a run without a crash; the kill-at-every-transition cases use them. */
const transitionsOf = new Map<string, string[]>();

/**
 * The crash-safety suite of one scenario (one test file each, so each gets its own time budget):
 * kills at random times on one daemon, then a kill right after every transition it stores.
 */
export function crashSuite(name: Scenario['name']): void {
  const scenario = SCENARIOS.find((s) => s.name === name)!;
  describe(`a controller killed during a ${scenario.name} rollout`, () => {
    const marker = randomBytes(6).toString('hex');
    let daemon: DaemonFixture;
    let load: LoadClient;
    let checker: InvariantChecker;
    let version = 1;

    before(async () => {
      daemon = await DaemonFixture.start((port) => crashConfig(port, marker, null));
      load = newLoad(daemon);
      load.start();
      checker = new InvariantChecker(daemon);
      checker.start();
    });
    after(async () => {
      await checker?.stop();
      await load?.stop();
      await daemon?.stop();
    });

    it(
      `resumes to the correct end after ${RANDOM_KILLS_PER_SCENARIO} kills at random times, under 32 keep-alive clients`,
      { timeout: 5 * 60_000 },
      async () => {
        const started = performance.now();
        const reference = await runScenario(daemon, marker, scenario, ++version);
        const referenceMs = performance.now() - started;
        const { events } = await daemon.client.events({ rolloutId: reference.rolloutId });
        transitionsOf.set(scenario.name, [...new Set(events.map((e) => e.kind))]);

        const missed: string[] = [];
        for (let n = 0; n < RANDOM_KILLS_PER_SCENARIO;) {
          // Inside the rollout, not at its very edges: a kill that lands after the end (or before
          // the first health check) tests nothing. A rollout can be quicker than the reference (a
          // short one, on a machine whose load changed): such a kill is run again with a new
          // rollout, and too many of them fail the test.
          const killAfterMs = (0.1 + Math.random() * 0.6) * referenceMs;
          const requestsBefore = load.snapshot().requests;
          const killer = (async () => {
            await sleep(killAfterMs);
            await daemon.killController();
          })();
          const run = await runScenario(daemon, marker, scenario, ++version);
          await killer;
          assert.deepEqual(orphans(await daemon.status(), { name: MARKER_ENV, value: marker }), [], `orphans after kill ${n}`);
          if (run.resumedInMs === null) {
            missed.push(`${Math.round(killAfterMs)}ms`);
            assert.ok(
              missed.length <= MAX_MISSED_KILLS,
              `${missed.length} kills missed the rollout (${missed.join(', ')}; reference ${Math.round(referenceMs)}ms)`,
            );
            continue;
          }
          assert.ok(run.resumedInMs < RESUME_LIMIT_MS, `kill ${n} at ${Math.round(killAfterMs)}ms: resumed after ${run.resumedInMs}ms`);
          assert.ok(load.snapshot().requests > requestsBefore, `no requests during kill ${n}`);
          n++;
        }
        const report = load.snapshot();
        assert.equal(report.stoppedByTimeLimit, false, 'the load ran out before the kills ended');
        assert.deepEqual(report.failures, [], `failed requests:\n${daemon.logTail()}`);
        assert.deepEqual(checker.breaches, []);
        assert.ok(checker.samples > 20, `only ${checker.samples} invariant samples`);
      },
    );
  });

  describe('a controller killed right after each transition it stores', () => {
    it(
      `${scenario.name}: resumes to the correct end after a kill at every transition, with 0 failed requests and 0 orphans`,
      { timeout: 10 * 60_000 },
      async (t) => {
        const transitions = transitionsOf.get(scenario.name);
        assert.ok(transitions && transitions.length > 3, 'the random-kill case recorded the transitions');
        const summary: string[] = [];
        // Each case needs a daemon of its own (the switch arms the first controller only): the next
        // one starts while the current case runs.
        let next = armedDaemon(transitions[0]!);
        for (const [n, transition] of transitions.entries()) {
          const armed = next;
          if (n + 1 < transitions.length) next = armedDaemon(transitions[n + 1]!);
          await t.test(`after ${transition}`, async () => void summary.push(await killAfter(await armed, scenario, transition)));
        }
        await next.then((d) => d.daemon.kill()).catch(() => undefined);
        t.diagnostic(summary.join('; '));
      },
    );
  });
}

interface ArmedDaemon {
  daemon: DaemonFixture;
  marker: string;
}

/** A fresh daemon whose first controller dies right after the first `transition` of an API rollout. */
function armedDaemon(transition: string): Promise<ArmedDaemon> {
  const marker = randomBytes(6).toString('hex');
  const started = DaemonFixture.start((port) => crashConfig(port, marker, null), { env: { [CRASH_AFTER_ENV]: `${transition}:1` } }).then((daemon) => ({
    daemon,
    marker,
  }));
  started.catch(() => undefined); // Reported when awaited.
  return started;
}

async function killAfter({ daemon, marker }: ArmedDaemon, scenario: Scenario, transition: string): Promise<string> {
  const load = newLoad(daemon);
  const checker = new InvariantChecker(daemon);
  try {
    load.start();
    checker.start();
    const run = await runScenario(daemon, marker, scenario, 2);
    assert.equal(run.controllerRestarts, 1, `the controller died once after ${transition}:\n${daemon.logTail()}`);
    assert.ok(run.resumedInMs !== null && run.resumedInMs < RESUME_LIMIT_MS, `resumed after ${run.resumedInMs}ms`);
    assert.match(daemon.logTail(400), /controller exited \(SIGKILL\)/);
    assert.deepEqual(orphans(await daemon.status(), { name: MARKER_ENV, value: marker }), []);
    // A run killed after its last transition can be over in half a second, too short for the
    // floor on a quick machine: the checker goes on sampling the resumed daemon, whose
    // invariants must hold as well, until it has the floor (a checker that cannot sample fails below).
    await checker.reach(MIN_SAMPLES_PER_TRANSITION, SAMPLE_FLOOR_WAIT_MS);
    const breaches = await checker.stop();
    const report = await load.stop();
    assert.deepEqual(report.failures, [], `failed requests:\n${daemon.logTail()}`);
    assert.ok(report.requests >= MIN_REQUESTS_PER_TRANSITION, `only ${report.requests} requests around the kill after ${transition}`);
    assert.deepEqual(breaches, []);
    assert.ok(checker.samples >= MIN_SAMPLES_PER_TRANSITION, `only ${checker.samples} invariant samples around the kill after ${transition}`);
    return `${transition}: ${report.requests} requests, ${checker.samples} samples, resumed in ${Math.round(run.resumedInMs)}ms`;
  } finally {
    await checker.stop();
    await load.stop().catch(() => undefined);
    await daemon.kill();
    // Anything left is one of ours that no status named: kill it, then fail on it.
    await waitFor('killed processes to go', () => processesWithEnv(MARKER_ENV, marker).length === 0, 2_000).catch(() => undefined);
    const strays = processesWithEnv(MARKER_ENV, marker);
    for (const pid of strays) process.kill(pid, 'SIGKILL');
    assert.deepEqual(strays, [], 'app processes no status named');
  }
}
