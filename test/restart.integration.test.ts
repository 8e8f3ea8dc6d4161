import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { LoadClient } from '../src/loadgen/load-client.js';
import { givenDaemonForTest, sampleAppConfig, waitFor, type DaemonFixture } from './helpers/daemon-fixture.js';

/** The ready instances of web, by pid, with the revision serving. */
async function readyPids(daemon: DaemonFixture): Promise<{ revision: number | null; pids: number[]; ids: string[] }> {
  const web = (await daemon.status()).apps[0]!;
  const ready = web.instances.filter((i) => i.state === 'ready');
  return { revision: web.revision, pids: ready.map((i) => i.pid!), ids: ready.map((i) => i.id) };
}

/**
 * Given an app of 2 instances at revision 1 under keep-alive load, when `cutover deploy web
 * --restart` runs (with `duringRestart` beside it: a gate to pass), then every process is new,
 * the revision is the same, and no request failed.
 */
async function restartUnderLoad(t: TestContext, strategy: string | undefined, duringRestart: (daemon: DaemonFixture) => Promise<void>): Promise<DaemonFixture> {
  const daemon = await givenDaemonForTest(t, (port) =>
    sampleAppConfig(port, { replicas: 2, env: { KEEPALIVE_MS: '1000' }, ...(strategy ? { strategy } : {}) }),
  );
  const before = await readyPids(daemon);
  assert.equal(before.pids.length, 2, 'precondition: 2 ready instances');
  const load = new LoadClient({ origin: daemon.origin, clients: 16, maxDurationMs: 90_000 });
  load.start();
  const restarting = daemon.cli(['deploy', 'web', '--restart']);
  await duringRestart(daemon);
  const restarted = await restarting;
  const after = await readyPids(daemon);
  const report = await load.stop();

  assert.equal(restarted.code, 0, `${restarted.stdout}\n${restarted.stderr}\n${daemon.logTail()}`);
  assert.match(restarted.stdout, /web: restarting revision 1 on new processes \(rollout \d+\)/);
  assert.match(restarted.stdout, /restart of revision 1/);
  assert.match(restarted.stdout, /restart: 2 old instances/);
  assert.ok(report.requests > 200, `only ${report.requests} requests were sent`);
  assert.deepEqual(report.failures, [], `failed requests: ${JSON.stringify(report.failures)}`);
  assert.equal(report.failed, 0);
  assert.equal(after.revision, 1, 'the revision is unchanged');
  assert.equal(after.pids.length, 2);
  assert.ok(
    after.pids.every((pid) => !before.pids.includes(pid)),
    `every pid replaced: before ${before.pids}, after ${after.pids}`,
  );
  assert.ok(
    after.ids.every((id) => !before.ids.includes(id)),
    'every instance is new',
  );
  const history = await daemon.client.history('web');
  assert.equal(history.revisions.length, 1, 'no new revision');
  assert.equal(history.rollouts[0]!.trigger, 'restart');
  assert.deepEqual([history.rollouts[0]!.fromRevision, history.rollouts[0]!.toRevision, history.rollouts[0]!.phase], [1, 1, 'promoted']);
  const shown = await daemon.cli(['history', 'web']);
  assert.match(shown.stdout, /promoted .*\(restart: new processes, same revision\)/);
  const { report: stored } = await daemon.client.report('web');
  assert.deepEqual(new Set(stored.restart?.oldInstances), new Set(before.ids));
  assert.deepEqual(new Set(stored.restart?.newInstances), new Set(after.ids));
  return daemon;
}

describe('issue 21: cutover deploy APP --restart', () => {
  it('rolling: replaces every process of the stable revision under load with 0 failed requests', async (t) => {
    await restartUnderLoad(t, undefined, async () => undefined);
  });

  it('blue-green: new processes wait at the gate out of traffic, then take it all at once; 0 failed requests', async (t) => {
    await restartUnderLoad(t, 'blueGreen: { scaleDownDelay: 60s }', async (daemon) => {
      await waitFor(
        'the restart to wait at its gate',
        async () => {
          const rollout = (await daemon.status()).apps[0]!.rollout;
          return rollout?.phase === 'paused' && rollout.gate !== null;
        },
        20_000,
      );
      const waiting = (await daemon.status()).apps[0]!;
      assert.equal(waiting.instances.filter((i) => i.state === 'ready').length, 4, 'green runs beside blue');
      assert.deepEqual(
        waiting.traffic.map((s) => [s.revision, s.weight, s.instances]),
        [[1, 100, 2]],
        'only the old processes take traffic before the switch',
      );
      const promote = await daemon.cli(['promote', 'web']);
      assert.equal(promote.code, 0, promote.stderr);
    });
  });

  it('exits 2 for an unknown app, and 1 while a rollout runs', async (t) => {
    const daemon = await givenDaemonForTest(t, (port) => sampleAppConfig(port, { replicas: 1 }));
    const unknown = await daemon.cli(['deploy', 'nosuchapp', '--restart']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /no app named "nosuchapp"/);
    const slow = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.BROKEN=never-ready', '--set', 'web.health.startupTimeout=60s']);
    assert.equal(slow.code, 0, slow.stderr);
    assert.equal((await daemon.status()).apps[0]!.rollout?.phase, 'progressing', 'precondition: a rollout runs');
    const refused = await daemon.cli(['deploy', 'web', '--restart']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /rollout \d+/);
    assert.equal((await daemon.cli(['rollback', 'web'])).code, 0);
  });
});
