import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoadClient } from '../src/loadgen/load-client.js';
import { CRASH_AFTER_ENV } from '../src/controller/crash-switch.js';
import type { DeployReport } from '../src/protocol/deploy-report.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

/** A canary that waits at a gate (pause: {}) after taking half the traffic. */
function gatedCanary(port: number): string {
  return [
    'metrics: { listen: false }',
    sampleAppConfig(port, { replicas: 2, strategy: 'canary: { steps: [{ setWeight: 50 }, { pause: {} }], abortScaleDownDelay: 0s }' }),
  ].join('\n');
}

const requestsOf = (report: DeployReport, revision: number, phases: readonly string[]): number =>
  report.phases.filter((p) => phases.includes(p.phase)).reduce((sum, p) => sum + (p.revisions.find((r) => r.revision === revision)?.requests ?? 0), 0);

describe('the deploy report of a rollout whose controller was killed in the middle', () => {
  let daemon: DaemonFixture;
  before(async () => {
    // The controller SIGKILLs itself right after the canary reaches its gate; the primary starts another.
    daemon = await DaemonFixture.start(gatedCanary, { env: { [CRASH_AFTER_ENV]: 'rollout-gate:1' } });
  });
  after(async () => daemon?.stop());

  it('still counts the requests served before the restart (and during it), once each, and is complete', async () => {
    // Given steady traffic and a canary rollout,
    const load = new LoadClient({ origin: daemon.origin, clients: 4, pauseMs: 2, maxDurationMs: 240_000 });
    load.start();
    const { pid: firstController } = await daemon.client.health();
    const deploy = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, deploy.stderr);
    const rolloutId = Number(/rollout (\d+)/.exec(deploy.stdout)![1]);
    // when the controller dies at the gate and another one takes over,
    await waitFor('a new controller', async () => ((await daemon.client.health().catch(() => null))?.pid ?? firstController) !== firstController, 30_000);
    await waitFor('the rollout at its gate again', async () => (await daemon.status()).apps[0]!.rollout?.gate != null, 30_000);
    const canaryServedBeforePromote = load.snapshot().byRevision['2'] ?? 0;
    assert.ok(canaryServedBeforePromote > 0, 'the canary took traffic before the restart');
    const promote = await daemon.cli(['promote', 'web']);
    assert.equal(promote.code, 0, promote.stderr);
    await waitFor('the report', async () => (await daemon.client.rollout(rolloutId)).report != null, 30_000);
    const figures = await load.stop();
    // then the report counts every request the canary served before the promote, the ones
    // served while no controller ran among them, and no request twice.
    const result = await daemon.cli(['report', 'web', String(rolloutId), '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as DeployReport;
    assert.equal(report.outcome, 'promoted');
    assert.equal(report.isComplete, true, result.stdout);
    assert.ok(
      requestsOf(report, 2, ['during', 'after']) >= canaryServedBeforePromote,
      `${requestsOf(report, 2, ['during', 'after'])} < ${canaryServedBeforePromote}: ${result.stdout}`,
    );
    const counted = requestsOf(report, 1, ['before', 'during', 'after']) + requestsOf(report, 2, ['before', 'during', 'after']);
    assert.ok(counted <= figures.requests, `the report counts ${counted} requests, the load sent ${figures.requests}`);
    assert.equal(report.failedByDeploy, 0);
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
    assert.match(daemon.logTail(400), /controller exited \(SIGKILL\)/);
  });
});
