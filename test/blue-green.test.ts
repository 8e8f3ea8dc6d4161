import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { findFreePort } from '../src/runtime/local/free-port.js';
import type { DaemonFixture } from './helpers/daemon-fixture.js';
import { givenDaemon, isProcessGroupAlive, runCli, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { sample } from './helpers/traffic.js';

const PREVIEW = { 'x-cutover-preview': '1' };

async function untilGate(daemon: DaemonFixture): Promise<void> {
  await waitFor(
    'the rollout to wait at its gate',
    async () => {
      const rollout = (await daemon.status()).apps[0]!.rollout;
      return rollout?.phase === 'paused' && rollout.gate !== null;
    },
    20_000,
  );
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('blue-green deploys', () => {
  let previewPort = 0;
  before(async () => {
    previewPort = await findFreePort();
  });
  const daemon = givenDaemon((port) =>
    sampleAppConfig(port, {
      replicas: 2,
      strategy: `blueGreen: { preview: { header: { name: x-cutover-preview, value: "1" }, listen: 127.0.0.1:${previewPort} }, scaleDownDelay: 60s, abortScaleDownDelay: 1s }`,
    }),
  );

  it('green answers preview traffic only until promote; then every new request goes to green, and blue stays warm', async () => {
    // Without --detach, deploy waits through the gate and says what it waits for.
    const deploying = daemon().cli(['deploy', '--set', 'web.run.env.VERSION=2']);
    await untilGate(daemon());
    const waiting = (await daemon().status()).apps[0]!;
    assert.equal(waiting.rollout?.phase, 'paused');
    assert.match(waiting.rollout?.gate ?? '', /cutover promote web/);
    assert.deepEqual(waiting.rollout?.steps, ['preview', 'switch']);
    assert.deepEqual(
      waiting.traffic.map((t) => [t.revision, t.weight]),
      [
        [2, 0],
        [1, 100],
      ],
    );

    assert.deepEqual((await sample(daemon().origin, 300)).byRevision, { 1: 300 }, 'real traffic stays on blue');
    assert.deepEqual((await sample(daemon().origin, 50, { headers: PREVIEW })).byRevision, { 2: 50 }, 'the preview header reaches green');
    assert.deepEqual((await sample(`http://127.0.0.1:${previewPort}`, 50)).byRevision, { 2: 50 }, 'the preview listener reaches green');

    const promote = await daemon().cli(['promote', 'web']);
    assert.equal(promote.code, 0, promote.stderr);
    assert.match(promote.stdout, /promoted/);
    // The switch was acknowledged by every worker before promote returned.
    assert.deepEqual((await sample(daemon().origin, 300)).byRevision, { 2: 300 });

    const deployed = await deploying;
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /waiting: .*cutover promote web/);
    assert.match(deployed.stdout, /rollout \d+ promoted/);

    const after = (await daemon().status()).apps[0]!;
    assert.equal(after.revision, 2);
    assert.equal(after.rollout?.warm?.revision, 1);
    assert.equal(after.instances.filter((i) => i.revision === 1 && i.state === 'ready').length, 2, 'blue stays up for scaleDownDelay');
    assert.equal(await refusesConnections(previewPort), true, 'the preview listener closes with the switch');
  });

  it('rollback inside the scale-down window starts no process and restores blue for all new requests', async (t) => {
    const before = (await daemon().status()).apps[0]!;
    const blue = before.instances
      .filter((i) => i.revision === 1)
      .map((i) => i.id)
      .sort();
    const startedAt = performance.now();
    const rollback = await daemon().cli(['rollback', 'web']);
    t.diagnostic(`cutover rollback inside the window took ${Math.round(performance.now() - startedAt)} ms, CLI start-up included`);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.deepEqual((await sample(daemon().origin, 300)).byRevision, { 1: 300 });

    const after = (await daemon().status()).apps[0]!;
    assert.equal(after.revision, 1);
    assert.equal(after.rollout?.phase, 'rolled-back');
    assert.deepEqual(
      after.instances
        .filter((i) => i.revision === 1)
        .map((i) => i.id)
        .sort(),
      blue,
      'the same blue instances serve again',
    );
    const { events } = await daemon().client.events({ rolloutId: after.rollout!.id });
    assert.equal(events.filter((e) => e.kind === 'instance-starting').length, 0, events.map((e) => e.message).join('\n'));
    const started = events.find((e) => e.kind === 'rollout-started')!.at;
    const switched = events.find((e) => e.kind === 'rollout-rolled-back')!.at;
    t.diagnostic(`in the daemon, from the rollback request to blue serving all traffic: ${switched - started} ms`);
  });

  it('abort sends all traffic back to blue at once, and green stops after the abort delay', async () => {
    const deploy = await daemon().cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=3']);
    assert.equal(deploy.code, 0, deploy.stderr);
    await untilGate(daemon());
    const green = (await daemon().status()).apps[0]!.instances.filter((i) => i.revision === 3);
    assert.equal(green.length, 2);

    const abort = await daemon().cli(['abort', 'web']);
    assert.equal(abort.code, 0, abort.stderr);
    assert.deepEqual(
      (await sample(daemon().origin, 200, { headers: PREVIEW })).byRevision,
      { 1: 200 },
      'not even preview traffic reaches the aborted revision',
    );
    const aborted = (await daemon().status()).apps[0]!;
    assert.equal(aborted.rollout?.phase, 'aborted');
    assert.equal(aborted.revision, 1);
    for (const instance of green) await waitFor(`green ${instance.id} to stop after the abort delay`, () => !isProcessGroupAlive(instance.pid!));
  });

  it('autoPromote switches by itself once green has been ready that long; blue stops when the scale-down delay ends', async () => {
    const blue = (await daemon().status()).apps[0]!.instances.filter((i) => i.revision === 1 && i.state === 'ready');
    const deploy = await daemon().cli([
      'deploy',
      '--set',
      'web.run.env.VERSION=4',
      '--set',
      'web.strategy.blueGreen.autoPromote=300ms',
      '--set',
      'web.strategy.blueGreen.scaleDownDelay=1s',
    ]);
    assert.equal(deploy.code, 0, `${deploy.stdout}\n${deploy.stderr}`);
    assert.match(deploy.stdout, /promoted/);
    assert.deepEqual((await sample(daemon().origin, 100)).byRevision, { 4: 100 });
    assert.equal(blue.length, 2);
    for (const instance of blue) await waitFor(`blue ${instance.id} to stop after the scale-down delay`, () => !isProcessGroupAlive(instance.pid!));
    assert.equal((await daemon().status()).apps[0]!.rollout?.warm, null);
  });

  it('refuses promote, pause and abort with exit 2 when no rollout is in progress', async () => {
    for (const verb of ['promote', 'pause', 'abort', 'resume']) {
      const result = await daemon().cli([verb, 'web']);
      assert.equal(result.code, 2, `${verb}: ${result.stderr}`);
      assert.match(result.stderr, /no rollout in progress/);
    }
  });
});

describe('deploy --strategy', () => {
  const daemon = givenDaemon((port) => sampleAppConfig(port, { replicas: 1 }));

  it('runs one deploy of a rolling app as blue-green with the defaults, and refuses an unknown strategy', async () => {
    const deploy = await daemon().cli(['deploy', '--detach', '--strategy', 'blue-green', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, deploy.stderr);
    await untilGate(daemon());
    assert.equal((await daemon().status()).apps[0]!.rollout?.strategy, 'blue-green');
    assert.deepEqual((await sample(daemon().origin, 20, { headers: PREVIEW })).byRevision, { 2: 20 }, 'the default preview header');
    assert.equal((await daemon().cli(['promote', 'web'])).code, 0);

    const bad = await runCli(['deploy', '--strategy', 'red-black', '-c', daemon().configPath, '--data-dir', daemon().dataDir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /rolling, blue-green, canary/);
  });
});
