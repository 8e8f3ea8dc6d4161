import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { givenDaemonForTest, sampleAppConfig, waitFor, type DaemonFixture } from './helpers/daemon-fixture.js';
import type { TestContext } from 'node:test';

/** Revision 2's instances take this long to listen, so a promote that grows the canary has something to wait for. */
const SLOW_START_MS = 1500;
const slowStart = `setTimeout(() => import('./server.js'), process.env.VERSION === '2' ? ${SLOW_START_MS} : 0)`;

/**
 * A canary app of 4 instances: setWeight 10 is one canary instance, setWeight 50 two, so the
 * promote between them has one to start, and it starts slowly.
 */
function givenCanaryApp(t: TestContext): Promise<DaemonFixture> {
  return givenDaemonForTest(t, (port) =>
    withSlowStart(
      sampleAppConfig(port, {
        replicas: 4,
        strategy: ['canary:', '        steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: {} }]', '        abortScaleDownDelay: 0s'].join(
          '\n',
        ),
      }),
    ),
  );
}

function withSlowStart(config: string): string {
  const slowed = config.replace('server.js]', `-e, ${JSON.stringify(slowStart)}]`);
  assert.notEqual(slowed, config, 'the command was replaced');
  return slowed;
}

async function deployToFirstGate(daemon: DaemonFixture): Promise<void> {
  const deploy = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
  assert.equal(deploy.code, 0, deploy.stderr);
  await waitFor(
    'the canary at its first gate',
    async () => {
      const rollout = (await daemon.status()).apps[0]!.rollout;
      return rollout?.gate !== null && rollout?.stepIndex === 1;
    },
    20_000,
  );
}

function canaryInstances(daemon: DaemonFixture): Promise<{ state: string }[]> {
  return daemon.status().then((s) => s.apps[0]!.instances.filter((i) => i.revision === 2 && (i.state === 'ready' || i.state === 'starting')));
}

describe('issue 21: canary promote waits until it is applied, like blue-green', () => {
  it('promote returns once the canary has grown to the next weight and waits at the next gate', async (t) => {
    const daemon = await givenCanaryApp(t);
    await deployToFirstGate(daemon);
    // Precondition: one canary instance now, so the promote to 50% has one more to start.
    assert.equal((await canaryInstances(daemon)).length, 1);

    const promote = await daemon.cli(['promote', 'web']);
    assert.equal(promote.code, 0, promote.stderr);
    assert.match(promote.stdout, /web: rollout \d+ promote applied; now: .*waiting for cutover promote/);
    // No waiting here: the promote's return means the weight is applied.
    const app = (await daemon.status()).apps[0]!;
    assert.equal(app.rollout?.stepIndex, 3);
    assert.notEqual(app.rollout?.gate, null);
    assert.deepEqual(
      (await canaryInstances(daemon)).map((i) => i.state),
      ['ready', 'ready'],
    );
    assert.deepEqual(app.traffic.find((s) => s.revision === 2)?.weight, 50);
  });

  it('promote --no-wait returns once the promote is recorded', async (t) => {
    const daemon = await givenCanaryApp(t);
    await deployToFirstGate(daemon);
    const promote = await daemon.cli(['promote', 'web', '--no-wait']);
    assert.equal(promote.code, 0, promote.stderr);
    // Answered before it was applied: still short of the gate after setWeight 50 (the canary's second instance takes 1.5 s to start).
    assert.match(promote.stdout, /web: rollout \d+ promote requested; now: step [23]\/4/);
    await waitFor(
      'the canary at its second gate',
      async () => {
        const rollout = (await daemon.status()).apps[0]!.rollout;
        return rollout?.gate !== null && rollout?.stepIndex === 3;
      },
      20_000,
    );
  });
});
