/**
 * The canary strategy, its analysis gate and a crash, over HTTPS and HTTP/2 on the front door
 * (issue 19): a good canary is promoted, a bad one fails its gate and is rolled back by itself,
 * and an instance killed under load is replaced, each under HTTP/2 and HTTPS/1.1 load with 0
 * failed requests (the app's own 500s on purpose aside). Rolling and blue-green deploys are in
 * `front-door-deploys.integration.test.ts`, `cutover restart` in
 * `daemon-restart-front-door.integration.test.ts`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, waitFor } from './helpers/daemon-fixture.js';
import { frontDoorAppConfig } from './helpers/front-door-config.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from './helpers/test-certificates.js';
import { TlsLoad, type TlsLoadReport } from './helpers/tls-load.js';

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

function assertNoFailures(report: TlsLoadReport): void {
  assert.ok(report.h2Requests > 200, `precondition: HTTP/2 load flowed (${report.h2Requests} requests)`);
  assert.ok(report.h1Requests > 100, `precondition: HTTPS/1.1 load flowed (${report.h1Requests} requests)`);
  assert.deepEqual(report.failures.slice(0, 10), [], `${report.failures.length} failed requests`);
}

describe('canary, its gate and a crash over HTTPS and HTTP/2 on the front door (issue 19)', { skip: 'skip' in tool ? tool.skip : false }, () => {
  let daemon: DaemonFixture;
  let dir: string;
  let cert: TestCertificate;
  let httpsPort: number;

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
    const load = new TlsLoad(httpsPort, HOST, cert.pem);
    await load.start();
    const good = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2']);
    const bad = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=3', '--set', 'web.run.env.ERROR_RATE=0.2']);
    const report = await load.stop();

    assert.equal(good.code, 0, `the good canary: ${good.stdout}\n${good.stderr}\n${daemon.logTail()}`);
    assert.equal(bad.code, 1, `the bad canary: ${bad.stdout}\n${bad.stderr}\n${daemon.logTail()}`);
    const badRollout = Number(/rollout (\d+)/.exec(bad.stdout)?.[1]);
    const rollout = await daemon.client.rollout(badRollout);
    assert.equal(rollout.phase, 'rolled-back');
    assert.match(rollout.reason ?? '', /^analysis error-rate failed: revision 3 success rate 0\.\d+ over [\d,]+ requests < 0\.95/);
    // The gate judged real traffic: the canary's own 500s reached the load, over both protocols' counts.
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

  it('replaces an instance killed under load: no request fails', async () => {
    const load = new TlsLoad(httpsPort, HOST, cert.pem, { h2Sessions: 2, streamsPerSession: 6, h1Clients: 6, withPosts: false });
    await load.start();
    const victim = (await daemon.status()).apps[0]!.instances.find((instance) => instance.state === 'ready')!;
    assert.ok(victim.pid, 'precondition: a ready instance with a pid');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const requestsAtKill = load.requestsSoFar;
    process.kill(victim.pid, 'SIGKILL');
    await waitFor('a replacement to be ready', async () => {
      const ready = (await daemon.status()).apps[0]!.instances.filter((instance) => instance.state === 'ready');
      return ready.length === 2 && !ready.some((instance) => instance.id === victim.id);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const report = await load.stop();
    const web = (await daemon.status()).apps[0]!;
    assert.equal(web.instances.find((instance) => instance.id === victim.id)?.state ?? 'failed', 'failed');
    assert.ok(
      load.requestsSoFar - requestsAtKill > 100,
      `precondition: the load went on through the kill (${load.requestsSoFar - requestsAtKill} requests after it)`,
    );
    assertNoFailures(report);
  });
});
