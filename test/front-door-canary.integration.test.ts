/**
 * The canary strategy, its gate, rollbacks, crashes and `cutover reload`, over HTTPS and HTTP/2
 * on the front door (issue 19): a good canary is promoted, a bad one fails its gate and is rolled
 * back by itself, `cutover rollback` goes back a revision, an instance and the controller killed
 * under load are replaced, and the proxy workers are replaced twice, each under HTTP/2 and
 * HTTPS/1.1 load with 0 failed requests (the app's own 500s on purpose aside). Rolling and
 * blue-green deploys are in `front-door-deploys.integration.test.ts`, `cutover restart` in
 * `daemon-restart-front-door.integration.test.ts`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, waitFor } from './helpers/daemon-fixture.js';
import { frontDoorAppConfig } from './helpers/front-door-config.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from './helpers/test-certificates.js';
import { runUnderLoad, TlsLoad, type TlsLoadReport } from './helpers/tls-load.js';

const tool = openssl();
const HOST = 'shop.example.test';

/** The canary's steps and its gate: the proxy's own success rate of the canary, judged twice a second apart. */
const CANARY = [
  '    strategy:',
  '      canary:',
  '        steps: [{ setWeight: 50 }, { analysis: { templates: [error-rate] } }]',
  '        abortScaleDownDelay: 0s',
  '    analysis:',
  '      error-rate: { provider: builtin, metric: successRate, successCondition: ">= 0.95", interval: 1s, count: 2, minRequests: 20 }',
];

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function assertNoFailures(report: TlsLoadReport): void {
  assert.ok(report.h2Requests > 200, `precondition: HTTP/2 load flowed (${report.h2Requests} requests)`);
  assert.ok(report.h1Requests > 100, `precondition: HTTPS/1.1 load flowed (${report.h1Requests} requests)`);
  assert.deepEqual(report.failures.slice(0, 10), [], `${report.failures.length} failed requests`);
}

describe('canary, gate, rollback, crashes and reload over HTTPS and HTTP/2 on the front door (issue 19)', { skip: 'skip' in tool ? tool.skip : false }, () => {
  let daemon: DaemonFixture;
  let dir: string;
  let cert: TestCertificate;
  let httpsPort: number;
  const newLoad = (withPosts = true): TlsLoad => new TlsLoad(httpsPort, HOST, cert.pem, { h2Sessions: 2, streamsPerSession: 6, h1Clients: 6, withPosts });

  before(async () => {
    dir = certificateDir();
    cert = makeCertificate(dir, 'shop', [HOST]);
    httpsPort = await findFreePort();
    daemon = await DaemonFixture.start((port) => frontDoorAppConfig(port, httpsPort, HOST, cert, { app: CANARY }));
  });

  after(async () => {
    await daemon?.stop();
    if (dir) removeDir(dir);
  });

  it('promotes a good canary through its gate, and rolls back one that fails it by itself: 0 failed requests', async () => {
    let good = { code: -1, stdout: '', stderr: '' };
    let bad = { code: -1, stdout: '', stderr: '' };
    const report = await runUnderLoad(newLoad(), async () => {
      good = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2']);
      bad = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=3', '--set', 'web.run.env.ERROR_RATE=0.2']);
    });

    assert.equal(good.code, 0, `the good canary: ${good.stdout}\n${good.stderr}\n${daemon.logTail()}`);
    assert.equal(bad.code, 1, `the bad canary: ${bad.stdout}\n${bad.stderr}\n${daemon.logTail()}`);
    const rollout = await daemon.client.rollout(Number(/rollout (\d+)/.exec(bad.stdout)?.[1]));
    assert.equal(rollout.phase, 'rolled-back');
    assert.match(rollout.reason ?? '', /^analysis error-rate failed: revision 3 success rate 0\.\d+ over [\d,]+ requests < 0\.95/);
    // The gate judged real traffic: the canary's own 500s reached the load.
    assert.ok(report.injectedErrors > 0, 'precondition: the bad canary answered some of the load with its 500s');
    assert.ok((report.byRevision['2'] ?? 0) > 0 && (report.byRevision['3'] ?? 0) > 0, `answers by revision: ${JSON.stringify(report.byRevision)}`);
    assertNoFailures(report);
    assert.match(bad.stdout, /failed requests caused by the deploy: 0 \(on the stable side: 0\)/);
    // Revision 2 serves everything again.
    const web = (await daemon.status()).apps[0]!;
    assert.equal(web.revision, 2);
    assert.deepEqual(
      web.traffic.filter((share) => share.weight > 0).map((share) => [share.revision, share.weight]),
      [[2, 100]],
    );
  });

  it('goes back a revision on `cutover rollback`: 0 failed requests', async () => {
    let result = { code: -1, stdout: '', stderr: '' };
    const report = await runUnderLoad(newLoad(), async () => {
      result = await daemon.cli(['rollback', 'web']);
      await pause(300);
    });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}\n${daemon.logTail()}`);
    assert.equal((await daemon.status()).apps[0]!.revision, 1);
    assert.ok((report.byRevision['1'] ?? 0) > 0, `precondition: the load reached the old revision again: ${JSON.stringify(report.byRevision)}`);
    assertNoFailures(report);
  });

  it('replaces an instance killed under load: no request fails', async () => {
    const load = newLoad(false);
    let requestsAfterKill = 0;
    let victimId = '';
    const report = await runUnderLoad(load, async () => {
      const web = (await daemon.status()).apps[0]!;
      const victim = web.instances.find((instance) => instance.state === 'ready' && instance.revision === web.revision);
      assert.ok(victim?.pid, `precondition: a ready instance of revision ${web.revision} with a pid: ${JSON.stringify(web.instances)}`);
      victimId = victim.id;
      await pause(300);
      const requestsAtKill = load.requestsSoFar;
      process.kill(victim.pid, 'SIGKILL');
      await waitFor('a replacement to be ready', async () => {
        const now = (await daemon.status()).apps[0]!;
        const ready = now.instances.filter((instance) => instance.state === 'ready' && instance.revision === web.revision);
        return ready.length === 2 && !ready.some((instance) => instance.id === victim.id);
      });
      await pause(300);
      requestsAfterKill = load.requestsSoFar - requestsAtKill;
    });
    const web = (await daemon.status()).apps[0]!;
    assert.equal(web.instances.find((instance) => instance.id === victimId)?.state ?? 'failed', 'failed');
    assert.ok(requestsAfterKill > 100, `precondition: the load went on through the kill (${requestsAfterKill} requests after it)`);
    assertNoFailures(report);
  });

  it('serves on while the controller is killed and started again: 0 failed requests', async () => {
    const load = newLoad();
    let killed = 0;
    let replacement = 0;
    let requestsAfterRestart = 0;
    const report = await runUnderLoad(load, async () => {
      await pause(300);
      killed = (await daemon.client.health()).pid;
      replacement = await daemon.killController();
      const requestsAtRestart = load.requestsSoFar;
      await pause(500);
      requestsAfterRestart = load.requestsSoFar - requestsAtRestart;
    });
    assert.notEqual(replacement, killed, 'precondition: a new controller runs');
    assert.ok(requestsAfterRestart > 100, `precondition: the load went on after the new controller started (${requestsAfterRestart} requests)`);
    assertNoFailures(report);
  });

  it('replaces every proxy worker twice on `cutover reload`: HTTP/2 sessions move to the new workers, 0 failed requests', async () => {
    const load = newLoad();
    const report = await runUnderLoad(load, async () => {
      for (let round = 0; round < 2; round++) {
        await daemon.reloadWorkers();
        const requestsBefore = load.requestsSoFar;
        await waitFor('load through the new workers', () => load.requestsSoFar > requestsBefore + 200);
      }
    });
    // Each reload ended the old workers' HTTP/2 sessions with GOAWAY; the load opened new ones.
    assert.ok(report.h2Reconnects >= 2, `precondition: HTTP/2 sessions were moved (${report.h2Reconnects} reconnects)`);
    assertNoFailures(report);
  });
});
