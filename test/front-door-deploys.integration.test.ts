import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, waitFor } from './helpers/daemon-fixture.js';
import { frontDoorAppConfig } from './helpers/front-door-config.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from './helpers/test-certificates.js';
import { h2Get, h2Session } from './helpers/tls-clients.js';
import { runUnderLoad, TlsLoad } from './helpers/tls-load.js';

const tool = openssl();

/** `/metrics` of the daemon. */
function metricsText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
}

/** The sum of `cutover_requests_total` for the app `web`, over every revision and status class. */
function requestsCounted(metrics: string): number {
  let total = 0;
  for (const match of metrics.matchAll(/^cutover_requests_total\{[^}]*app="web"[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}
const HOST = 'shop.example.test';

// The sample app on the shared listeners only, under each strategy.
for (const [name, strategy] of [
  ['rolling', 'rolling: { maxSurge: 1, maxUnavailable: 0 }'],
  ['blue-green', 'blueGreen: { autoPromote: 1s, scaleDownDelay: 1s }'],
] as const) {
  describe(`${name} deploys over HTTPS and HTTP/2 on the front door (issue 19)`, { skip: 'skip' in tool ? tool.skip : false }, () => {
    let daemon: DaemonFixture;
    let dir: string;
    let cert: TestCertificate;
    let httpsPort: number;
    let metricsPort: number;

    before(async () => {
      dir = certificateDir();
      cert = makeCertificate(dir, 'shop', [HOST]);
      httpsPort = await findFreePort();
      metricsPort = await findFreePort();
      daemon = await DaemonFixture.start(
        (port) =>
          `${frontDoorAppConfig(port, httpsPort, HOST, cert, {
            proxy: ['  tls: { hsts: true }'],
            app: ['    drainTimeout: 10s', '    stopTimeout: 5s', '    strategy:', `      ${strategy}`],
          })}\nmetrics: { listen: 127.0.0.1:${metricsPort} }`,
      );
    });
    after(async () => {
      await daemon?.stop();
      if (dir) removeDir(dir);
    });

    it('keeps 0 failed requests under HTTP/2 and HTTPS/1.1 load through 3 deploys', async () => {
      const report = await runUnderLoad(new TlsLoad(httpsPort, HOST, cert.pem), async () => {
        for (let version = 2; version <= 4; version++) {
          const result = await daemon.cli(['deploy', '--set', `web.run.env.VERSION=${version}`]);
          assert.equal(result.code, 0, `deploy ${version} exited ${result.code}: ${result.stdout}\n${result.stderr}\n${daemon.logTail()}`);
        }
      });
      assert.ok(report.h2Requests > 300, `only ${report.h2Requests} HTTP/2 requests were sent`);
      assert.ok(report.h1Requests > 100, `only ${report.h1Requests} HTTPS/1.1 requests were sent`);
      assert.deepEqual(report.failures.slice(0, 10), [], `${report.failures.length} failed requests`);
      // The load really crossed the deploys: several revisions answered it.
      assert.ok(Object.keys(report.byRevision).length >= 3, `answers by revision: ${JSON.stringify(report.byRevision)}`);

      const session = await h2Session(httpsPort, HOST, cert.pem);
      try {
        const last = await h2Get(session, '/');
        assert.equal(last.status, 200);
        assert.match(last.text, /hello from v4/);
        assert.equal(last.headers['strict-transport-security'], 'max-age=31536000');
      } finally {
        session.close();
      }
      const status = await daemon.status();
      const web = status.apps[0]!;
      assert.equal(web.rollout?.phase, 'promoted');
      // The proxy's counts include the HTTP/2 requests, like HTTP/1.1 ones: every request of the load, and the last one, by revision.
      const sent = report.h2Requests + report.h1Requests + 1;
      let counted = 0;
      await waitFor(`${sent} requests counted in /metrics`, async () => {
        counted = requestsCounted(await metricsText(metricsPort));
        return counted >= sent;
      });
      assert.ok(counted <= sent + 5, `${counted} requests counted for ${sent} sent`);
    });
  });
}
