import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

/** Restarts in a row; 10 for the figure (CUTOVER_RESTART_ROUNDS=10), fewer by default to keep the suite short on 2 cores. */
const ROUNDS = Number(process.env.CUTOVER_RESTART_ROUNDS ?? 5);

function daemonPid(daemon: DaemonFixture): number {
  return Number(fs.readFileSync(path.join(daemon.dataDir, 'daemon.pid'), 'utf8'));
}

async function instancePids(daemon: DaemonFixture): Promise<number[]> {
  const status = await daemon.status();
  return status.apps.flatMap((app) => app.instances.map((i) => i.pid!)).sort((a, b) => a - b);
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('cutover restart (issue 20)', () => {
  let daemon: DaemonFixture;
  let recordFile: string;
  const config = (port: number, maxConnections: number): string =>
    `${sampleAppConfig(port, { replicas: 2, env: { RECORD_POSTS: recordFile } })}\nproxy:\n  maxConnections: ${maxConnections}\n`;
  before(async () => {
    recordFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'co-posts-')), 'posts.txt');
    daemon = await DaemonFixture.start((port) => config(port, 5_000));
  });
  after(async () => daemon?.stop());

  it(`restarts ${ROUNDS} times in a row under 32 keep-alive clients with POSTs: 0 failed, 0 duplicated, instances kept`, async () => {
    const instances = await instancePids(daemon);
    assert.equal(instances.length, 2);
    const load = new LoadClient({ origin: daemon.origin, clients: 32, postShare: 0.25, pauseMs: () => 5 + Math.random() * 10, maxDurationMs: 600_000 });
    load.start();
    await waitFor('some load', () => load.snapshot().requests > 200);
    const timings: number[] = [];
    const [adminPort, uiPort] = [await freePort(), await freePort()];
    // Each round changes one daemon-level setting; the others stay as the running daemon has them.
    const changes: { flags: string[]; isAdminOn: boolean; isUiOn: boolean }[] = [
      { flags: ['--workers', '1'], isAdminOn: false, isUiOn: false },
      { flags: ['--admin', `127.0.0.1:${adminPort}`], isAdminOn: true, isUiOn: false },
      { flags: ['--ui', `127.0.0.1:${uiPort}`], isAdminOn: true, isUiOn: true },
      { flags: ['--no-admin'], isAdminOn: false, isUiOn: true },
      { flags: ['--no-ui', '--workers', '2'], isAdminOn: false, isUiOn: false },
    ];
    for (let round = 0; round < ROUNDS; round++) {
      // Given a change of proxy limits in the file and of a daemon-level flag
      daemon.writeConfig(config(daemon.port, round % 2 === 0 ? 4_000 : 6_000));
      const { flags, isAdminOn, isUiOn } = changes[round % changes.length]!;
      const before = daemonPid(daemon);
      const startedAt = performance.now();
      // When the daemon is restarted
      const result = await daemon.cli(['restart', ...flags]);
      timings.push(performance.now() - startedAt);
      // Then a new daemon serves, on the same instances
      assert.equal(result.code, 0, `restart ${round + 1} (${flags.join(' ')}) exited ${result.code}: ${result.stderr}\n${daemon.logTail()}`);
      assert.notEqual(daemonPid(daemon), before, 'the daemon pid changed');
      // The new primary is the lean daemon process, as `up --detach` starts it, not a `cutover up` holding the command line.
      const command = fs.readFileSync(`/proc/${daemonPid(daemon)}/cmdline`, 'utf8').split('\0');
      assert.ok(command.includes('--jitless') && command.some((arg) => arg.endsWith('daemon-main.js')), `the new primary runs ${command.join(' ')}`);
      assert.deepEqual(await instancePids(daemon), instances, 'the instances were adopted, not restarted');
      assert.equal(await isListening(adminPort), isAdminOn, `after restart ${flags.join(' ')}: admin API on TCP ${isAdminOn ? 'on' : 'off'}`);
      assert.equal(await isListening(uiPort), isUiOn, `after restart ${flags.join(' ')}: dashboard ${isUiOn ? 'on' : 'off'}`);
      const served = load.snapshot().requests;
      await waitFor('load through the new daemon', () => load.snapshot().requests > served + 100, 20_000);
    }
    const report = await load.stop();
    console.log(`${ROUNDS} restarts: ${report.requests} requests, ${report.failed} failed; restart took ${timings.map((t) => Math.round(t)).join(', ')} ms`);
    assert.deepEqual(report.failures.slice(0, 5), []);
    assert.equal(report.failed, 0);
    const recorded = fs.readFileSync(recordFile, 'utf8').trim().split('\n');
    assert.equal(recorded.length, new Set(recorded).size, 'no POST reached an app twice');
    assert.ok(report.requests > 1000, `only ${report.requests} requests`);
  });

  it('exits 1 with the reason when the new daemon cannot start, and the old one serves on (0 failed)', async () => {
    // Given an address the new daemon's admin API cannot bind
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    const before = daemonPid(daemon);
    const instances = await instancePids(daemon);
    const load = new LoadClient({ origin: daemon.origin, clients: 32, postShare: 0.25, pauseMs: () => 5, maxDurationMs: 120_000 });
    load.start();
    await waitFor('some load', () => load.snapshot().requests > 200);
    try {
      // When a restart asks for it
      const result = await daemon.cli(['restart', '--admin', `127.0.0.1:${port}`]);
      // Then it fails with the reason, and the old daemon serves on with its instances
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /EADDRINUSE/);
      assert.equal(daemonPid(daemon), before);
      const served = load.snapshot().requests;
      await waitFor('load still served', () => load.snapshot().requests > served + 200);
      await waitFor('the old controller back', async () => (await daemon.client.health().catch(() => null)) !== null, 60_000);
      assert.deepEqual(await instancePids(daemon), instances);
    } finally {
      busy.close();
    }
    const report = await load.stop();
    assert.equal(report.failed, 0, JSON.stringify(report.failures.slice(0, 5)));
  });

  it('prints a cutover.service and a cutover.socket for the config', async () => {
    const result = await daemon.cli(['systemd']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /ExecReload=.* restart /);
    assert.match(result.stdout, new RegExp(`ListenStream=127\\.0\\.0\\.1:${daemon.port}`));
    assert.match(result.stdout, /Restart=on-failure/);
  });
});
