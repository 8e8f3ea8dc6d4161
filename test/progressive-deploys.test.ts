import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoadClient } from '../src/load/load-client.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

/**
 * Blue-green and canary deploys back to back, with promote, abort and rollback mixed in, under
 * 32 keep-alive clients: not one request may fail.
 */
describe('blue-green and canary deploys under load', () => {
  let daemon: DaemonFixture;

  before(async () => {
    daemon = await DaemonFixture.start((port) =>
      sampleAppConfig(port, {
        replicas: 2,
        env: { KEEPALIVE_MS: '1000' },
        strategy: [
          'blueGreen: { scaleDownDelay: 2s, abortScaleDownDelay: 1s }',
          // Only one strategy block is allowed; canary deploys use --strategy canary with these defaults.
        ].join('\n'),
      }),
    );
  });
  after(async () => daemon.stop());

  async function waitForGate(): Promise<void> {
    await waitFor(
      'a gate',
      async () => {
        const rollout = (await daemon.status()).apps[0]!.rollout;
        return rollout?.phase === 'paused' && rollout.gate !== null;
      },
      20_000,
    );
  }

  async function run(args: string[]): Promise<string> {
    const result = await daemon.cli(args);
    assert.equal(result.code, 0, `cutover ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}\n${daemon.logTail()}`);
    return result.stdout;
  }

  it('runs 10 blue-green and 10 canary deploys in a row with 0 failed requests', async (t) => {
    const load = new LoadClient({
      origin: daemon.origin,
      clients: 32,
      postShare: 0.3,
      pauseMs: () => (Math.random() < 0.05 ? 800 + Math.random() * 400 : 0),
      maxDurationMs: 240_000,
    });
    load.start();
    let version = 1;
    for (const strategy of ['blue-green', 'canary']) {
      for (let n = 0; n < 10; n++) {
        version += 1;
        await run(['deploy', '--detach', '--strategy', strategy, '--set', `web.run.env.VERSION=${version}`]);
        await waitForGate();
        if (n % 4 === 3) {
          await run(['abort', 'web']);
          continue;
        }
        await run(['promote', 'web', '--full']);
        await waitFor('the rollout to be promoted', async () => (await daemon.status()).apps[0]!.rollout?.phase === 'promoted', 20_000);
        if (n % 4 === 1) await run(['rollback', 'web']);
      }
    }
    const report = await load.stop();
    t.diagnostic(`${report.requests} requests, ${report.failed} failed, during 20 deploys with promote, abort and rollback`);

    assert.ok(report.requests > 2_000, `only ${report.requests} requests were sent`);
    assert.deepEqual(report.failures, [], `failed requests: ${JSON.stringify(report.failures.slice(0, 10))}`);
    assert.equal(report.failed, 0);
    const web = (await daemon.status()).apps[0]!;
    assert.equal(web.instances.filter((i) => i.state === 'ready' && i.revision === web.revision).length, 2);
  });
});
