import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoadClient, type LoadReport } from '../src/loadgen/load-client.js';
import type { DeployReport } from '../src/protocol/deploy-report.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

// Issue 24: a report counts every request under the traffic-plan generation that routed it, so
// its per-revision counts equal what the clients were answered, however short the rollout.

const requestsOf = (report: DeployReport, revision: number): number =>
  report.phases.reduce((sum, p) => sum + (p.revisions.find((r) => r.revision === revision)?.requests ?? 0), 0);

/** Given load on the daemon's app, when a deploy runs to its end, the load stops, then the report is written: the report and the load's figures. */
async function deployUnderLoad(daemon: DaemonFixture, version: string, rolloutTimeoutMs: number): Promise<{ report: DeployReport; load: LoadReport }> {
  const load = new LoadClient({ origin: daemon.origin, clients: 4, pauseMs: 1, maxDurationMs: rolloutTimeoutMs + 30_000 });
  load.start();
  await waitFor('the load to be answered', () => load.snapshot().requests > 50, 10_000);
  const deploy = await daemon.cli(['deploy', '--detach', '--set', `web.run.env.VERSION=${version}`]);
  assert.equal(deploy.code, 0, deploy.stderr);
  const rolloutId = Number(/rollout (\d+)/.exec(deploy.stdout)![1]);
  await waitFor('the rollout to end', async () => (await daemon.client.rollout(rolloutId)).endedAt !== null, rolloutTimeoutMs);
  // The load stops well inside the report's after window, so everything it sent is in the report.
  const figures = await load.stop();
  await waitFor('the report', async () => (await daemon.client.rollout(rolloutId)).report != null, 30_000);
  const result = await daemon.cli(['report', 'web', String(rolloutId), '--json']);
  assert.equal(result.code, 0, result.stderr);
  return { report: JSON.parse(result.stdout) as DeployReport, load: figures };
}

function assertCountsMatch(report: DeployReport, load: LoadReport): void {
  assert.equal(report.countedBy, 'plan', 'the built-in proxy counts by plan generation');
  assert.equal(load.failed, 0, JSON.stringify(load.failures));
  assert.ok((load.byRevision['1'] ?? 0) > 0 && (load.byRevision['2'] ?? 0) > 0, `both revisions answered: ${JSON.stringify(load.byRevision)}`);
  for (const revision of [1, 2]) {
    assert.equal(requestsOf(report, revision), load.byRevision[String(revision)] ?? 0, `revision ${revision}: ${JSON.stringify(report.phases)}`);
  }
  const beforePhase = report.phases.find((p) => p.phase === 'before')!;
  assert.equal(beforePhase.revisions.find((r) => r.revision === 2)?.requests ?? 0, 0, 'no request counted for revision 2 before it served');
}

describe('exact deploy reports (issue 24)', () => {
  describe('a rolling deploy of well under a second', () => {
    let daemon: DaemonFixture;
    before(async () => {
      daemon = await DaemonFixture.start((port) => ['metrics: { listen: false }', sampleAppConfig(port, { replicas: 1 })].join('\n'));
    });
    after(async () => daemon?.stop());

    it("counts each revision's requests exactly as many times as the clients were answered by it", async () => {
      const { report, load } = await deployUnderLoad(daemon, '2', 30_000);
      assert.equal(report.outcome, 'promoted');
      assertCountsMatch(report, load);
      // One plan change: the rollout lasts as long as one new process takes to start and pass its
      // health check (about 0.3-1 s on an idle machine; a busy CI box may take a few seconds).
      assert.ok(report.durationMs < 10_000, `a short rollout: ${report.durationMs}ms`);
      console.log(`# short rollout: ${report.durationMs}ms, ${JSON.stringify(load.byRevision)}`);
      assert.ok((report.steps?.length ?? 0) >= 1, 'the rollout made at least one plan');
    });
  });

  describe('a canary of about 30 seconds', () => {
    let daemon: DaemonFixture;
    before(async () => {
      const strategy = 'canary: { steps: [{ setWeight: 20 }, { pause: 12s }, { setWeight: 60 }, { pause: 12s }] }';
      daemon = await DaemonFixture.start((port) => ['metrics: { listen: false }', sampleAppConfig(port, { replicas: 2, strategy })].join('\n'));
    });
    after(async () => daemon?.stop());

    it('counts exactly too, and has a row per step with its weight', async () => {
      const { report, load } = await deployUnderLoad(daemon, '2', 60_000);
      assert.equal(report.outcome, 'promoted');
      assert.ok(report.durationMs >= 24_000, `a long rollout: ${report.durationMs}ms`);
      assertCountsMatch(report, load);
      const canaryWeights = (report.steps ?? []).map((s) => s.weights.find((w) => w.revision === 2)?.weightPercent ?? 0);
      assert.ok(canaryWeights.includes(20) && canaryWeights.includes(60), `steps at 20% and 60%: ${JSON.stringify(report.steps)}`);
      const at20 = report.steps!.find((s) => s.weights.some((w) => w.revision === 2 && w.weightPercent === 20))!;
      assert.ok(at20.requests > 0 && at20.p99Ms !== null && at20.errors === 0, JSON.stringify(at20));
      const share = (at20.revisions.find((r) => r.revision === 2)?.requests ?? 0) / at20.requests;
      assert.ok(share > 0.1 && share < 0.3, `about 20% of the step's requests went to the canary: ${share}`);
    });
  });
});
