import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoadClient } from '../src/loadgen/load-client.js';
import { DaemonFixture, sampleAppConfig } from './helpers/daemon-fixture.js';
import { haproxySkip } from './helpers/haproxy.js';

// Apart from haproxy.integration.test.ts, so each file keeps within its time budget on a loaded machine.

describe('builtin analysis and the deploy report through HAProxy (its server counters)', { skip: haproxySkip }, () => {
  let daemon: DaemonFixture;

  before(async () => {
    daemon = await DaemonFixture.start((port) =>
      [
        'metrics: { listen: false }',
        sampleAppConfig(port, {
          replicas: 2,
          strategy: 'canary: { steps: [{ setWeight: 50 }, { analysis: { templates: [errors] } }], abortScaleDownDelay: 0s }',
          router: 'haproxy: { mode: managed, servers: 8 }',
          extra: [
            '    analysis:',
            '      errors: { provider: builtin, metric: successRate, successCondition: ">= 0.95", interval: 1s, count: 2, minRequests: 20 }',
          ].join('\n'),
        }),
      ].join('\n'),
    );
  });
  after(async () => daemon?.stop());

  it("a canary answering 30% errors fails its builtin analysis on HAProxy's counts and is rolled back; the report has both revisions' figures", async () => {
    const load = new LoadClient({ origin: daemon.origin, clients: 6, pauseMs: 2, maxDurationMs: 240_000 });
    load.start();
    const result = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2', '--set', 'web.run.env.ERROR_RATE=0.3']);
    const figures = await load.stop();
    assert.equal(result.code, 1, `${result.stdout}\n${daemon.logTail()}`);
    const rolloutId = Number(/rollout (\d+)/.exec(result.stdout)![1]);
    const rollout = await daemon.client.rollout(rolloutId);
    assert.match(rollout.reason ?? '', /^analysis errors failed: revision 2 success rate 0\.\d+ over \d+ requests < 0\.95/);
    const { report } = await daemon.client.report('web', rolloutId);
    const during = report.phases.find((p) => p.phase === 'during')!;
    const canary = during.revisions.find((r) => r.revision === 2)!;
    const stable = during.revisions.find((r) => r.revision === 1)!;
    assert.ok(canary.requests > 0 && canary.app5xx > 0, JSON.stringify(during));
    assert.ok(stable.requests > 0 && stable.app5xx === 0, JSON.stringify(during));
    assert.ok(canary.p50Ms !== null, "latency from HAProxy's average times");
    assert.equal(report.failedByDeploy, 0);
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
    // The counts seen match what the load saw of the canary, give or take the last read.
    assert.ok(canary.requests <= (figures.byRevision['2'] ?? 0), `${canary.requests} > ${figures.byRevision['2']}`);
  });
});
