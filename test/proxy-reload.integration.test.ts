import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

describe('cutover reload', () => {
  let daemon: DaemonFixture;
  before(async () => {
    // Two workers (not the default one): every worker of several is replaced.
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 2 }), { upArgs: ['--workers', '2'] });
  });
  after(async () => daemon?.stop());

  it('replaces every proxy worker twice under 32 keep-alive clients with 0 failed requests', async () => {
    // Given two proxy workers serving steady load, GETs and POSTs
    const load = new LoadClient({ origin: daemon.origin, clients: 32, postShare: 0.25, pauseMs: () => 5 + Math.random() * 10, maxDurationMs: 240_000 });
    load.start();
    assert.equal(daemon.workerPids().length, 2);
    await waitFor('some load', () => load.snapshot().requests > 200);

    for (let round = 0; round < 2; round++) {
      // When the proxy is reloaded, then two new workers serve, and the old ones are gone once they drained
      assert.equal((await daemon.reloadWorkers()).length, 2);
      const before = load.snapshot().requests;
      await waitFor('load through the new workers', () => load.snapshot().requests > before + 200);
    }

    const report = await load.stop();
    assert.equal(report.failed, 0, JSON.stringify(report.failures.slice(0, 5)));
    assert.ok(report.requests > 600);
  });

  it('exits 3 when no daemon runs', async () => {
    const result = await daemon.cli(['reload', '--data-dir', path.join(daemon.dir, 'nothing-here')], { withGlobals: false });
    assert.equal(result.code, 3, result.stderr);
  });
});
