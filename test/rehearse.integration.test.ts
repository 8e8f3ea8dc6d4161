import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RehearsalResult } from '../src/cli/rehearse/rehearsal-result.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, isProcessGroupAlive, sampleAppConfig, type CliResult } from './helpers/daemon-fixture.js';
import { repoRoot } from './helpers/repo.js';
import { parseXml, xmlElements } from './helpers/xml.js';
import { isAlive } from '../src/daemon/daemon-lock.js';
import { makeCertificate, openssl } from './helpers/test-certificates.js';

const tool = openssl();

/** A rehearsal that overruns is sent SIGTERM (it then stops its daemon and apps), and SIGKILL a minute later. */
const REHEARSAL_TIMEOUT_MS = 150_000;

/** Runs `cutover rehearse ARGS…`; `tmp` becomes its TMPDIR, where its scratch dir goes. */
function rehearse(args: string[], options: { tmp: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'cutover.js'), 'rehearse', ...args], {
      env: { ...process.env, NO_COLOR: '1', TMPDIR: options.tmp, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const stop = setTimeout(() => child.kill('SIGTERM'), REHEARSAL_TIMEOUT_MS);
    const kill = setTimeout(() => child.kill('SIGKILL'), REHEARSAL_TIMEOUT_MS + 60_000);
    child.on('exit', (code) => {
      clearTimeout(stop);
      clearTimeout(kill);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

function rehearsalDaemonPid(progress: string): number {
  const pid = /the rehearsal daemon \(pid (\d+)\)/.exec(progress)?.[1];
  assert.ok(pid, `the progress names the rehearsal daemon's pid:\n${progress}`);
  return Number(pid);
}

describe('cutover rehearse', () => {
  describe('given a daemon already running the demo app from the same config', () => {
    let daemon: DaemonFixture;
    let tmp: string;

    before(async () => {
      daemon = await DaemonFixture.start((port) => sampleAppConfig(port));
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'co-rh-'));
    });
    after(async () => {
      await daemon.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    it(
      'rehearses 2 deploys and a broken one on a daemon and ports of its own: exit 0, a JUnit file with 3 passing cases, the running daemon untouched, nothing left behind',
      { timeout: REHEARSAL_TIMEOUT_MS + 90_000 },
      async () => {
        const before = (await daemon.status()).apps[0]!;
        const junit = path.join(daemon.dir, 'rehearsal.xml');
        const run = await rehearse(['-c', daemon.configPath, '--deploys', '2', '--junit', junit, '--json'], { tmp, env: { CUTOVER_DATA_DIR: daemon.dataDir } });
        assert.equal(run.code, 0, `rehearse exited ${run.code}:\n${run.stderr.slice(-4000)}`);
        const result = JSON.parse(run.stdout) as RehearsalResult;

        // The load ran, through every deploy, on the rehearsal's own port.
        const [web] = result.apps;
        assert.ok(web && web.load.requests > 0, 'the load sent requests');
        assert.notEqual(new URL(web.origin).port, String(daemon.port), 'the rehearsal took its own port');
        assert.deepEqual(
          result.deploys.map((d) => [d.number, d.isBroken, d.expected, d.outcome, d.revision]),
          [
            [1, false, 'promoted', 'promoted', 2],
            [2, false, 'promoted', 'promoted', 3],
            [3, true, 'rolled-back', 'rolled-back', 4],
          ],
        );
        for (const deploy of result.deploys) {
          assert.ok(deploy.load.requests > 0, `requests during ${deploy.name}`);
          assert.ok(deploy.report, `a deploy report for ${deploy.name}`);
        }
        assert.match(result.deploys[2]!.reason ?? '', /not ready within the startup timeout/);
        assert.equal(web.load.failed, 0);
        assert.equal(result.isPassed, true);
        assert.deepEqual(result.problems, []);

        const report = parseXml(fs.readFileSync(junit, 'utf8'));
        assert.equal(xmlElements(report, 'testcase').length, 3);
        assert.equal(report.attributes.failures, '0');
        assert.equal(xmlElements(report, 'failure').length, 0);

        const after = (await daemon.status()).apps[0]!;
        assert.deepEqual([after.revision, after.rollout?.id], [before.revision, before.rollout?.id], 'the running daemon made no rollout');
        assert.deepEqual(after.instances.map((i) => i.pid).sort(), before.instances.map((i) => i.pid).sort(), 'its instances are the same');
        assert.equal((await fetch(daemon.origin)).status, 200, 'it still serves');

        assert.equal(isProcessGroupAlive(rehearsalDaemonPid(run.stderr)), false, 'the rehearsal daemon is gone');
        assert.deepEqual(fs.readdirSync(tmp), [], 'the scratch dir is gone');
      },
    );
  });

  describe('given an app whose new revisions answer POST with 500 while they warm up', () => {
    let dir: string;
    let tmp: string;
    let pids: string;
    let configPath: string;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-rh-'));
      tmp = path.join(dir, 'tmp');
      pids = path.join(dir, 'pids');
      fs.mkdirSync(tmp);
      fs.mkdirSync(pids);
      configPath = path.join(dir, 'cutover.yaml');
      fs.writeFileSync(
        configPath,
        [
          'apps:',
          '  shop:',
          `    listen: 127.0.0.1:${await findFreePort()}`,
          '    run:',
          `      command: [${JSON.stringify(process.execPath)}, cold-posts.mjs]`,
          `      cwd: ${JSON.stringify(path.join(repoRoot(), 'test', 'fixtures', 'rehearse'))}`,
          `      env: { COLD_MS: "1500", PID_DIR: ${JSON.stringify(pids)} }`,
          '    replicas: 2',
          '    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: 3s }',
          '    drainTimeout: 5s',
          '    stopTimeout: 2s',
          'rehearse:',
          '  requests:',
          '    - { path: / }',
          `    - { method: POST, path: /orders, body: '{"item":1}', headers: { content-type: application/json } }`,
          '',
        ].join('\n'),
      );
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('exits 1 and names the failed requests, while the broken revision still rolled back', { timeout: REHEARSAL_TIMEOUT_MS + 90_000 }, async () => {
      const run = await rehearse(['-c', configPath, '--deploys', '1', '--json'], { tmp });
      assert.equal(run.code, 1, `rehearse exited ${run.code}:\n${run.stderr.slice(-4000)}`);
      const result = JSON.parse(run.stdout) as RehearsalResult;

      const [shop] = result.apps;
      assert.ok(shop && shop.load.requests > 0, 'the load sent requests');
      const [deploy, broken] = result.deploys;
      assert.equal(broken?.isBroken, true);
      assert.equal(broken?.outcome, 'rolled-back', 'the broken revision rolled back');
      assert.equal(deploy?.outcome, 'promoted', 'the deploy itself went through');

      assert.equal(result.isPassed, false);
      assert.equal(deploy.isPassed, false);
      assert.ok(deploy.load.failed > 0);
      assert.deepEqual(
        deploy.load.failures.map((f) => [f.method, f.path, f.status]),
        [['POST', '/orders', 500]],
        'only the POSTs failed, answered 500',
      );
      assert.match(deploy.problems.join('\n'), /requests? failed while it ran: POST \/orders: answered 500/);
      assert.match(run.stderr, /POST \/orders: answered 500/, 'the progress names them too');

      const started = fs.readdirSync(pids).map(Number);
      assert.ok(started.length >= 3, `the app's processes recorded their pids: ${started.join(', ')}`);
      assert.deepEqual(started.filter(isAlive), [], 'no process of the app is left');
      assert.deepEqual(fs.readdirSync(tmp), [], 'the scratch dir is gone');
    });
  });

  describe(
    'given an app with only hosts on the front door, over TLS with a certificate file next to the config',
    { skip: 'skip' in tool ? tool.skip : false },
    () => {
      let dir: string;
      let tmp: string;
      let configPath: string;
      let ports: number[];

      before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-rh-'));
        tmp = path.join(dir, 'tmp');
        fs.mkdirSync(tmp);
        makeCertificate(dir, 'shop', ['shop.example.test']);
        ports = [await findFreePort(), await findFreePort()];
        configPath = path.join(dir, 'cutover.yaml');
        fs.writeFileSync(
          configPath,
          [
            'proxy:',
            `  listen: { http: 127.0.0.1:${ports[0]}, https: 127.0.0.1:${ports[1]} }`,
            'apps:',
            '  shop:',
            '    hosts: [shop.example.test]',
            '    tls: { cert: ./shop.pem, key: ./shop.key }',
            '    run:',
            `      command: [${JSON.stringify(process.execPath)}, server.js]`,
            `      cwd: ${JSON.stringify(path.join(repoRoot(), 'examples', 'demo'))}`,
            '    replicas: 2',
            '    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: 5s }',
            '',
          ].join('\n'),
        );
      });
      after(() => fs.rmSync(dir, { recursive: true, force: true }));

      it(
        'loads it through the shared HTTPS listener by SNI and Host on ports of its own: exit 0, every request answered',
        { timeout: REHEARSAL_TIMEOUT_MS + 90_000 },
        async () => {
          const run = await rehearse(['-c', configPath, '--deploys', '1', '--clients', '2', '--json'], { tmp });
          assert.equal(run.code, 0, `rehearse exited ${run.code}:\n${run.stderr.slice(-4000)}`);
          const result = JSON.parse(run.stdout) as RehearsalResult;
          const [shop] = result.apps;
          assert.ok(shop && shop.load.requests > 100, `the load sent ${shop?.load.requests} requests`);
          assert.equal(shop.load.failed, 0);
          const origin = new URL(shop.origin);
          assert.equal(origin.protocol, 'https:', 'the load went through the shared HTTPS listener');
          assert.ok(!ports.map(String).includes(origin.port), 'on a port of the rehearsal, not the config');
          assert.match(run.stderr, /shop serves on https:\/\/127\.0\.0\.1:\d+ as shop\.example\.test/);
          // Answered by the app (its revisions), not by the proxy (421/404 carry no revision).
          assert.ok(Object.keys(shop.byRevision).length >= 2, `answers by revision: ${JSON.stringify(shop.byRevision)}`);
          assert.deepEqual(
            result.deploys.map((d) => [d.isBroken, d.outcome]),
            [
              [false, 'promoted'],
              [true, 'rolled-back'],
            ],
          );
          assert.deepEqual(fs.readdirSync(tmp), [], 'the scratch dir is gone');
        },
      );
    },
  );

  describe('bad input', () => {
    let dir: string;
    let configPath: string;

    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-rh-'));
      configPath = path.join(dir, 'cutover.yaml');
      fs.writeFileSync(configPath, sampleAppConfig(8080));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('exits 2 before starting anything: an unknown app, --deploys 0, an unknown strategy, a --junit directory that does not exist', async () => {
      const cases: [string[], RegExp][] = [
        [['nope', '-c', configPath], /no app named "nope"/],
        [['-c', configPath, '--deploys', '0'], /--deploys must be a whole number ≥ 1/],
        [['-c', configPath, '--strategy', 'sideways'], /sideways/],
        [['-c', configPath, '--junit', path.join(dir, 'missing', 'rehearsal.xml')], /does not exist/],
      ];
      const tmp = path.join(dir, 'tmp');
      fs.mkdirSync(tmp);
      for (const [args, message] of cases) {
        const run = await rehearse(args, { tmp });
        assert.equal(run.code, 2, `${args.join(' ')} exited ${run.code}: ${run.stderr}`);
        assert.match(run.stderr, message);
      }
      assert.deepEqual(fs.readdirSync(tmp), [], 'no scratch dir was made');
    });
  });
});
