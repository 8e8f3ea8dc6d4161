import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAlive } from '../src/daemon/daemon-lock.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { frontDoorAppConfig } from './helpers/front-door-config.js';
import { send } from './helpers/proxy-fixtures.js';
import { repoRoot } from './helpers/repo.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from './helpers/test-certificates.js';
import { h2Get, h2Session, httpsGet } from './helpers/tls-clients.js';
import { TlsLoad } from './helpers/tls-load.js';

const tool = openssl();
const HOST = 'shop.example.test';
/** Restarts in a row under load. */
const ROUNDS = 2;

function daemonPid(daemon: DaemonFixture): number {
  return Number(fs.readFileSync(path.join(daemon.dataDir, 'daemon.pid'), 'utf8'));
}

describe('cutover restart hands the front door over (issue 19)', { skip: 'skip' in tool ? tool.skip : false }, () => {
  let daemon: DaemonFixture;
  let dir: string;
  let cert: TestCertificate;
  let httpsPort: number;

  before(async () => {
    dir = certificateDir();
    cert = makeCertificate(dir, 'shop', [HOST]);
    httpsPort = await findFreePort();
    daemon = await DaemonFixture.start((port) => frontDoorAppConfig(port, httpsPort, HOST, cert));
  });
  after(async () => {
    await daemon?.stop();
    if (dir) removeDir(dir);
  });

  it(`restarts ${ROUNDS} times under HTTPS/1.1 and HTTP/2 load on the shared listeners: 0 failed, the new daemon serves`, async (t) => {
    const load = new TlsLoad(httpsPort, HOST, cert.pem);
    await load.start();
    const pids = [daemonPid(daemon)];
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const result = await daemon.cli(['restart']);
        assert.equal(result.code, 0, `restart ${round} exited ${result.code}: ${result.stdout}\n${result.stderr}\n${daemon.logTail()}`);
        const pid = daemonPid(daemon);
        assert.ok(!pids.includes(pid), `restart ${round}: the daemon pid changed (${pids.join(', ')} -> ${pid})`);
        pids.push(pid);
        // The old daemon is gone (its workers drained) and the shared listeners still answer: the new daemon's workers serve them.
        await waitFor(`the old daemon (pid ${pids.at(-2)}) to exit`, () => !isAlive(pids.at(-2)!), 30_000);
        assert.equal(isAlive(pid), true);
        const plain = await send(daemon.port, { headers: { host: HOST } });
        assert.equal(plain.status, 308, 'the shared HTTP listener redirects to https');
        const session = await h2Session(httpsPort, HOST, cert.pem);
        try {
          assert.equal((await h2Get(session, '/')).status, 200);
        } finally {
          session.close();
        }
        assert.equal((await httpsGet(httpsPort, HOST, cert.pem)).status, 200);
      }
    } finally {
      const report = await load.stop();
      t.diagnostic(
        `${report.h2Requests} HTTP/2 and ${report.h1Requests} HTTPS/1.1 requests, ${report.failures.length} failed; ${report.h2Reconnects} sessions reopened, ${report.h2Refused} streams refused unprocessed`,
      );
      assert.ok(report.h2Requests > 200, `only ${report.h2Requests} HTTP/2 requests were sent`);
      assert.ok(report.h1Requests > 100, `only ${report.h1Requests} HTTPS/1.1 requests were sent`);
      assert.deepEqual(report.failures.slice(0, 10), [], `${report.failures.length} failed requests`);
      // The old workers' sessions were really closed under the load, and the clients moved on.
      assert.ok(report.h2Reconnects >= ROUNDS, `only ${report.h2Reconnects} HTTP/2 sessions were reopened`);
    }
  });
});

describe('cutover restart with shared listeners that no app uses', () => {
  let daemon: DaemonFixture;
  let sharedPort: number;

  before(async () => {
    sharedPort = await findFreePort();
    daemon = await DaemonFixture.start((port) => [`proxy:\n  listen: { http: 127.0.0.1:${sharedPort} }`, sampleAppConfig(port, { replicas: 1 })].join('\n'));
  });
  after(async () => daemon?.stop());

  it('the new daemon opens the handed-over listener anyway: an unknown host gets 404, never a wait in the backlog', async () => {
    const ask = (): Promise<number> =>
      send(sharedPort, { headers: { host: 'nobody.example.test' }, signal: AbortSignal.timeout(15_000) }).then((r) => r.status);
    assert.equal(await ask(), 404, 'precondition: the shared listener answers before the restart');
    const before = daemonPid(daemon);
    const result = await daemon.cli(['restart']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}\n${daemon.logTail()}`);
    await waitFor(`the old daemon (pid ${before}) to exit`, () => !isAlive(before), 30_000);
    // Every worker that accepted on the socket before is gone: this answer comes from the new daemon.
    assert.equal(await ask(), 404);
    assert.equal((await send(daemon.port)).status, 200, "the app's own listener serves too");
  });
});

describe('cutover restart with several apps on the shared listener', () => {
  const hosts = 'abcdefghij'.split('').map((name) => `${name}.example.test`);
  let daemon: DaemonFixture;

  before(async () => {
    daemon = await DaemonFixture.start((port) =>
      [
        'proxy:',
        `  listen: { http: 127.0.0.1:${port} }`,
        'apps:',
        ...hosts.flatMap((host) => [
          `  ${host.split('.')[0]}:`,
          `    hosts: [${host}]`,
          '    tls: false',
          '    run:',
          `      command: [${JSON.stringify(process.execPath)}, server.js]`,
          `      cwd: ${JSON.stringify(path.join(repoRoot(), 'examples', 'demo'))}`,
          '    replicas: 1',
          '    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: 5s }',
        ]),
      ].join('\n'),
    );
  });
  after(async () => daemon?.stop());

  it('the new workers accept only once they hold every app the old ones served: no 404 for the apps whose plans come later', async (t) => {
    let isRunning = true;
    const answers: Record<string, Record<string, number>> = {};
    // A new connection per request: each one is accepted by whichever workers listen at that moment.
    const loops = hosts.flatMap((host) =>
      [1].map(async () => {
        while (isRunning) {
          const key = await send(daemon.port, { headers: { host } }).then(
            (response) => (response.status === 200 ? 'served' : `status ${response.status}`),
            (error: Error) => error.message,
          );
          (answers[host] ??= {})[key] = (answers[host]?.[key] ?? 0) + 1;
        }
      }),
    );
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const before = daemonPid(daemon);
        const result = await daemon.cli(['restart']);
        assert.equal(result.code, 0, `restart ${round}: ${result.stdout}\n${result.stderr}\n${daemon.logTail()}`);
        await waitFor(`the old daemon (pid ${before}) to exit`, () => !isAlive(before), 30_000);
      }
    } finally {
      isRunning = false;
      await Promise.all(loops);
    }
    t.diagnostic(JSON.stringify(answers));
    for (const host of hosts) {
      const { served = 0, ...failed } = answers[host] ?? {};
      assert.ok(served > 100, `precondition: ${host} was under load through the restarts (${served} served)`);
      assert.deepEqual(failed, {}, `${host}: requests failed`);
    }
  });
});
