import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { sample } from './helpers/traffic.js';

describe('passive outlier ejection, end to end', () => {
  let daemon: DaemonFixture;
  let failDir = '';
  let metricsPort = 0;
  before(async () => {
    failDir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-fail-'));
    metricsPort = await findFreePort();
    daemon = await DaemonFixture.start((port) =>
      [
        `metrics: { listen: 127.0.0.1:${metricsPort} }`,
        sampleAppConfig(port, { replicas: 3, env: { FAIL_DIR: failDir }, extra: '    outlierDetection: { consecutiveFailures: 3, ejectFor: 10m }' }),
      ].join('\n'),
    );
    await waitFor('three ready instances', async () => (await daemon.status()).apps[0]!.instances.filter((i) => i.state === 'ready').length === 3, 20_000);
  });
  after(async () => {
    await daemon?.stop();
    fs.rmSync(failDir, { recursive: true, force: true });
  });

  it('an instance that stays healthy but answers 500 leaves the pool after 3 failures in a row per worker; the others then serve everything', async () => {
    // Given three ready instances, one of which starts answering every request with a 500
    const instances = (await daemon.status()).apps[0]!.instances;
    const bad = instances[0]!;
    fs.writeFileSync(path.join(failDir, String(bad.port)), '');

    // When traffic flows, over fresh connections each time (the kernel spreads them over the workers; one by default)
    const workers = 1;
    let failed = 0;
    let clean: Record<string, number> = {};
    await waitFor(
      'a sample with no failure',
      async () => {
        const result = await sample(daemon.origin, 200, { connections: 8 });
        failed += result.byRevision['failed'] ?? 0;
        clean = result.byRevision;
        return result.byRevision['failed'] === undefined;
      },
      30_000,
    );

    // Then each proxy worker forwarded 3 requests to it, plus at most the ones already on their
    // way when the third failure came back (8 connections), before ejecting it; and the other
    // two serve everything afterwards
    assert.ok(failed >= 3 && failed <= (3 + 8 - 1) * workers, `${failed} failed requests`);
    assert.deepEqual(clean, { 1: 200 });
    // And the health check still passes: ejection is the proxy's own, the instance keeps running
    const after = (await daemon.status()).apps[0]!.instances.find((i) => i.id === bad.id);
    assert.equal(after?.state, 'ready', 'passive ejection leaves the instance running');
    // And /metrics counts the ejections
    await waitFor('the ejections in /metrics', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('cutover_outlier_ejections_total{app="web",revision="1"}'));
      return line !== undefined && Number(line.split(' ').pop()) >= 1;
    });
  });
});
