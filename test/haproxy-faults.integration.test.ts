import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoadClient, type LoadReport } from '../src/loadgen/load-client.js';
import type { StatusReport } from '../src/protocol/status.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { haproxySkip } from './helpers/haproxy.js';
import { sample } from './helpers/traffic.js';

/** Requests a scenario must see at least, so "0 failed" is never said of an idle data plane. */
const MIN_REQUESTS = 200;

type App = StatusReport['apps'][number];

async function run(daemon: DaemonFixture, args: string[], expectedCode = 0): Promise<string> {
  const result = await daemon.cli(args);
  assert.equal(result.code, expectedCode, `cutover ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}\n${daemon.logTail()}`);
  return result.stdout;
}

async function web(daemon: DaemonFixture): Promise<App> {
  return (await daemon.status()).apps[0]!;
}

/** The app at rest: `revision` stable, the only one running, with all the traffic. */
async function waitForRest(daemon: DaemonFixture, revision: number): Promise<void> {
  await waitFor(
    `revision ${revision} alone at full size with all the traffic`,
    async () => {
      const app = await web(daemon);
      const live = app.instances.filter((i) => i.state !== 'stopped' && i.state !== 'failed');
      return (
        app.revision === revision &&
        (app.rollout === null || !['progressing', 'paused'].includes(app.rollout.phase)) &&
        live.length === 2 &&
        live.every((i) => i.state === 'ready' && i.revision === revision) &&
        app.traffic.length === 1 &&
        app.traffic[0]!.revision === revision
      );
    },
    90_000, // Old instances drain first (drainTimeout 10s), on a machine that may be loaded.
  );
}

/** SIGKILLs the controller and waits for the next one (generously: on a loaded machine a restart can take a while). */
async function killController(daemon: DaemonFixture): Promise<void> {
  const { pid } = await daemon.client.health();
  process.kill(pid, 'SIGKILL');
  await waitFor('a new controller', async () => ((await daemon.client.health().catch(() => null))?.pid ?? pid) !== pid, 60_000);
}

async function waitForGate(daemon: DaemonFixture): Promise<void> {
  await waitFor(
    'a gate',
    async () => {
      const rollout = (await web(daemon)).rollout;
      return rollout?.phase === 'paused' && rollout.gate !== null;
    },
    20_000,
  );
}

/**
 * Managed HAProxy as the data plane, under 32 keep-alive clients per scenario: an abort, a
 * rollback during and after a rollout, an automatic rollback, and the controller killed mid-way.
 * Each scenario's load starts before and stops after it, so its figures are its own.
 */
describe('HAProxy (managed) under load through aborts, rollbacks and a controller SIGKILL', { skip: haproxySkip }, () => {
  let daemon: DaemonFixture;
  const figures: string[] = [];

  before(async () => {
    daemon = await DaemonFixture.start((port) =>
      sampleAppConfig(port, {
        replicas: 2,
        startupTimeout: '2s',
        strategy: 'canary: { steps: [{ setWeight: 25 }, { pause: {} }], abortScaleDownDelay: 1s }',
        router: 'haproxy: { mode: managed, servers: 8 }',
      }),
    );
  });
  after(async () => {
    console.log(`# ${figures.join('; ')}`);
    await daemon?.stop();
  });

  async function underLoad(name: string, scenario: () => Promise<void>): Promise<LoadReport> {
    const load = new LoadClient({ origin: daemon.origin, clients: 32, postShare: 0.2, pauseMs: 10, maxDurationMs: 240_000 });
    load.start();
    try {
      await waitFor('the load to flow', () => load.snapshot().requests > 50);
      await scenario();
      await waitFor(`${MIN_REQUESTS} requests`, () => load.snapshot().requests >= MIN_REQUESTS);
    } finally {
      const report = await load.stop();
      figures.push(`${name}: ${report.requests} requests, ${report.failed} failed`);
      assert.deepEqual(report.failures, [], `${name}: failed requests:\n${daemon.logTail()}`);
      assert.equal(report.failed, 0);
    }
    return load.snapshot();
  }

  it('aborts a canary at its gate: 0 failed, and only the stable revision answers afterwards', async () => {
    const report = await underLoad('canary abort', async () => {
      await run(daemon, ['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
      await waitForGate(daemon);
      await run(daemon, ['abort', 'web']);
      await waitForRest(daemon, 1);
      assert.equal((await web(daemon)).rollout?.phase, 'aborted');
    });
    assert.ok((report.byRevision['2'] ?? 0) > 0, 'the canary answered some requests before the abort');
    assert.deepEqual((await sample(daemon.origin, 200)).byRevision, { 1: 200 });
  });

  it('rolls back a canary mid-way, then a promoted revision: 0 failed', async () => {
    let back = 0;
    await underLoad('rollback during a rollout', async () => {
      await run(daemon, ['deploy', '--detach', '--set', 'web.run.env.VERSION=3']);
      await waitForGate(daemon);
      await run(daemon, ['rollback', 'web']);
      await waitForRest(daemon, 1);
      assert.equal((await web(daemon)).rollout?.phase, 'rolled-back');
    });
    await underLoad('rollback after a promote', async () => {
      await run(daemon, ['deploy', '--detach', '--set', 'web.run.env.VERSION=4']);
      await waitForGate(daemon);
      const promoted = (await web(daemon)).rollout!.toRevision;
      await run(daemon, ['promote', 'web', '--full']);
      await waitForRest(daemon, promoted);
      await run(daemon, ['rollback', 'web']);
      back = (await web(daemon)).revision!;
      assert.notEqual(back, promoted, 'the rollback went back from the promoted revision');
      await waitForRest(daemon, back);
    });
    assert.deepEqual((await sample(daemon.origin, 200)).byRevision, { [back]: 200 });
  });

  it('rolls back a revision that never becomes ready by itself: 0 failed', async () => {
    const stable = (await web(daemon)).revision!;
    await underLoad('automatic rollback', async () => {
      await run(daemon, ['deploy', '--strategy', 'rolling', '--set', 'web.run.env.VERSION=5', '--set', 'web.run.env.BROKEN=never-ready'], 1);
      assert.equal((await web(daemon)).rollout?.phase, 'rolled-back');
      await waitForRest(daemon, stable);
    });
  });

  it('survives a controller SIGKILL during a rolling deploy and at a canary gate: 0 failed, each rollout ends as asked', async () => {
    await underLoad('controller SIGKILL during rolling', async () => {
      const deploying = daemon.cli(['deploy', '--strategy', 'rolling', '--detach', '--set', 'web.run.env.VERSION=6']);
      assert.equal((await deploying).code, 0);
      await waitFor('a new instance starting', async () => (await web(daemon)).instances.some((i) => i.revision !== 1 && i.state !== 'stopped'));
      await killController(daemon);
      const revision = (await web(daemon)).rollout!.toRevision;
      await waitForRest(daemon, revision);
      assert.equal((await web(daemon)).rollout?.phase, 'promoted');
    });
    await underLoad('controller SIGKILL at a canary gate', async () => {
      await run(daemon, ['deploy', '--detach', '--set', 'web.run.env.VERSION=7']);
      await waitForGate(daemon);
      const revision = (await web(daemon)).rollout!.toRevision;
      await killController(daemon);
      await waitForGate(daemon);
      await run(daemon, ['promote', 'web', '--full']);
      await waitForRest(daemon, revision);
    });
  });
});
