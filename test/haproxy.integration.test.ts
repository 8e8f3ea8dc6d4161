import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import { RuntimeApi } from '../src/router/haproxy/runtime-api.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { haproxySkip } from './helpers/haproxy.js';
import { sample, sharePercent } from './helpers/traffic.js';

const REQUESTS_PER_SHARE = 10_000;

async function run(daemon: DaemonFixture, args: string[]): Promise<string> {
  const result = await daemon.cli(args);
  assert.equal(result.code, 0, `cutover ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}\n${daemon.logTail()}`);
  return result.stdout;
}

async function waitForGate(daemon: DaemonFixture): Promise<void> {
  await waitFor(
    'a gate',
    async () => {
      const rollout = (await daemon.status()).apps[0]!.rollout;
      return rollout?.phase === 'paused' && rollout.gate !== null;
    },
    20_000,
  );
}

/** Given cutover with a managed HAProxy as the data plane. */
describe('rollouts with HAProxy as the load balancer (managed mode)', { skip: haproxySkip }, () => {
  let daemon: DaemonFixture;

  before(async () => {
    daemon = await DaemonFixture.start((port) =>
      sampleAppConfig(port, {
        replicas: 1,
        strategy: 'blueGreen: { scaleDownDelay: 1s, abortScaleDownDelay: 1s }',
        router: 'haproxy: { mode: managed, servers: 8 }',
      }),
    );
  });
  after(async () => daemon?.stop());

  it('runs 10 rolling, 10 blue-green and 10 canary deploys under 32 keep-alive clients with 0 failed requests', async () => {
    // Thirty deploys take minutes on a loaded machine: the limit only stops a runaway.
    const load = new LoadClient({ origin: daemon.origin, clients: 32, postShare: 0.2, pauseMs: 10, maxDurationMs: 600_000 });
    load.start();
    let version = 1;
    const byStrategy: Record<string, number> = {};
    const deployMs: number[] = [];
    for (const strategy of ['rolling', 'blue-green', 'canary']) {
      const before = load.snapshot().requests;
      for (let n = 0; n < 10; n++) {
        version += 1;
        const startedMs = performance.now();
        if (strategy === 'rolling') {
          await run(daemon, ['deploy', '--strategy', 'rolling', '--set', `web.run.env.VERSION=${version}`]);
          deployMs.push(Math.round(performance.now() - startedMs));
          continue;
        }
        await run(daemon, ['deploy', '--detach', '--strategy', strategy, '--set', `web.run.env.VERSION=${version}`]);
        await waitForGate(daemon);
        await run(daemon, ['promote', 'web', '--full']);
        await waitFor('the rollout to be promoted', async () => (await daemon.status()).apps[0]!.rollout?.phase === 'promoted', 20_000);
        deployMs.push(Math.round(performance.now() - startedMs));
      }
      byStrategy[strategy] = load.snapshot().requests - before;
    }
    const report = await load.stop();
    console.log(`# ${report.requests} requests (${JSON.stringify(byStrategy)}), ${report.failed} failed; deploys took ${deployMs.join(' ')} ms`);

    assert.deepEqual(report.failures, [], `failed requests: ${JSON.stringify(report.failures.slice(0, 10))}\n${daemon.logTail()}`);
    assert.equal(report.failed, 0);
    for (const strategy of Object.keys(byStrategy))
      assert.ok(byStrategy[strategy]! > 200, `only ${byStrategy[strategy]} requests during the ${strategy} deploys`);
    const web = (await daemon.status()).apps[0]!;
    assert.equal(web.revision, 31);
    assert.deepEqual((await sample(daemon.origin, 200)).byRevision, { 31: 200 });
  });
});

describe('a canary through HAProxy', { skip: haproxySkip }, () => {
  let daemon: DaemonFixture;

  before(async () => {
    daemon = await DaemonFixture.start((port) =>
      sampleAppConfig(port, {
        replicas: 2,
        strategy: 'canary: { steps: [{ setWeight: 10 }, { pause: {} }], abortScaleDownDelay: 1s }',
        router: 'haproxy: { mode: managed, servers: 8 }',
      }),
    );
  });
  after(async () => daemon?.stop());

  it(`sends the canary its weight (±2 points over ${REQUESTS_PER_SHARE} requests), and still does after HAProxy reloads mid-canary`, async () => {
    await run(daemon, ['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
    await waitForGate(daemon);
    const first = await sample(daemon.origin, REQUESTS_PER_SHARE);
    assert.equal(first.byRevision['failed'], undefined);
    const share = sharePercent(first, 2);
    console.log(`# canary share before the reload: ${share.toFixed(2)}% of ${REQUESTS_PER_SHARE}`);
    assert.ok(Math.abs(share - 10) <= 2, `canary share ${share.toFixed(2)}% at weight 10`);

    // When HAProxy reloads (through its master socket, as an operator would) under load,
    const stats = new RuntimeApi(path.join(daemon.dataDir, 'haproxy', 'admin.sock'));
    const workerBefore = (await stats.showInfo())['Pid'];
    const load = new LoadClient({ origin: daemon.origin, clients: 32, maxDurationMs: 240_000 });
    load.start();
    await waitFor('some requests', () => load.snapshot().requests > 200);
    await new RuntimeApi(path.join(daemon.dataDir, 'haproxy', 'master.sock')).send('reload');
    await waitFor('a new HAProxy worker', async () => {
      const pid = (await stats.showInfo().catch(() => ({}) as Record<string, string>))['Pid'];
      return pid !== undefined && pid !== workerBefore;
    });
    await waitFor('cutover to notice the reload', () => daemon.logTail(200).includes('applying every plan again'));
    const during = await load.stop();

    // then no request failed across the reload (the old worker closes an idle keep-alive
    // connection only after answering its next request: option idle-close-on-response),
    assert.ok(during.requests > 200, `only ${during.requests} requests across the reload`);
    assert.deepEqual(during.failures, [], `failed across the reload:\n${daemon.logTail()}`);
    assert.equal(during.failed, 0);
    // and the canary keeps its weight.
    const second = await sample(daemon.origin, REQUESTS_PER_SHARE);
    assert.equal(second.byRevision['failed'], undefined);
    const shareAfter = sharePercent(second, 2);
    console.log(
      `# canary share after the reload: ${shareAfter.toFixed(2)}% of ${REQUESTS_PER_SHARE}; ${during.requests} requests during the reload, ${during.failed} failed`,
    );
    assert.ok(Math.abs(shareAfter - 10) <= 2, `canary share ${shareAfter.toFixed(2)}% after the reload`);

    await run(daemon, ['promote', 'web']);
    await waitFor('the canary to be promoted', async () => (await daemon.status()).apps[0]!.rollout?.phase === 'promoted', 20_000);
    assert.deepEqual((await sample(daemon.origin, 200)).byRevision, { 2: 200 });
  });
});
