import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { LoadClient } from '../src/loadgen/load-client.js';
import { givenDaemon, givenDaemonForTest, isProcessGroupAlive, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

describe('supervision of running instances', () => {
  const given = givenDaemon((port) => sampleAppConfig(port, { replicas: 2 }));

  it('replaces a ready instance that dies, and idempotent requests meanwhile do not fail', async () => {
    const daemon = given();
    const load = new LoadClient({ origin: daemon.origin, clients: 8, pauseMs: 2, maxDurationMs: 240_000 });
    load.start();
    const before = await daemon.status();
    const victim = before.apps[0]!.instances.find((i) => i.state === 'ready')!;
    await waitFor('the load to flow', () => load.snapshot().requests > 0);
    const requestsAtKill = load.snapshot().requests;
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor('a replacement to be ready', async () => {
      const web = (await daemon.status()).apps[0]!;
      const ready = web.instances.filter((i) => i.state === 'ready');
      return ready.length === 2 && !ready.some((i) => i.id === victim.id);
    });
    const report = await load.stop();
    const web = (await daemon.status()).apps[0]!;
    assert.equal(web.instances.find((i) => i.id === victim.id)?.state ?? 'failed', 'failed');
    assert.ok(report.requests - requestsAtKill > 50, `only ${report.requests - requestsAtKill} requests after the kill`);
    assert.deepEqual(report.failures, []);
  });
});

describe('unhealthy instances', () => {
  const given = givenDaemon((port) => sampleAppConfig(port, { replicas: 2 }));

  it('takes a ready instance that keeps failing its check out of traffic and replaces it', async () => {
    const daemon = given();
    const load = new LoadClient({ origin: daemon.origin, clients: 8, postShare: 0.25, pauseMs: 2, maxDurationMs: 240_000 });
    load.start();
    const victim = (await daemon.status()).apps[0]!.instances.find((i) => i.state === 'ready')!;
    await waitFor('the load to flow', () => load.snapshot().requests > 0);
    const requestsAtFault = load.snapshot().requests;
    process.kill(victim.pid!, 'SIGUSR2');
    await waitFor('a replacement to be ready', async () => {
      const ready = (await daemon.status()).apps[0]!.instances.filter((i) => i.state === 'ready');
      return ready.length === 2 && !ready.some((i) => i.id === victim.id);
    });
    await waitFor('the unhealthy instance to be stopped', () => !isProcessGroupAlive(victim.pid!));
    const report = await load.stop();
    assert.ok(report.requests - requestsAtFault > 50, `only ${report.requests - requestsAtFault} requests after the fault`);
    assert.deepEqual(report.failures, []);
    assert.match(await daemon.cli(['status']).then((r) => r.stdout), new RegExp(`${victim.id}\\s+1\\s+failed`));
  });

  it('keeps the last ready instance in traffic even when it fails its checks', async () => {
    const daemon = given();
    const ready = (await daemon.status()).apps[0]!.instances.filter((i) => i.state === 'ready');
    // Two checks of one are not yet three in a row, so take them one after the other.
    process.kill(ready[0]!.pid!, 'SIGUSR2');
    await waitFor(
      'the first to be replaced',
      async () => !(await daemon.status()).apps[0]!.instances.some((i) => i.id === ready[0]!.id && i.state === 'ready'),
    );
    // Every live instance now fails its checks: the second original one and its new neighbour.
    // (SIGUSR2 toggles, so each gets exactly one.)
    const live = (await daemon.status()).apps[0]!.instances.filter((i) => i.state === 'ready' || i.state === 'starting');
    assert.ok(
      live.some((i) => i.id === ready[1]!.id),
      'the second instance is still live',
    );
    for (const instance of live) process.kill(instance.pid!, 'SIGUSR2');
    await waitFor('a warning that the last ready instance stays', () => /is the last ready instance: it stays in traffic/.test(daemon.logTail(200)), 15_000);
    const status = await daemon.status();
    assert.ok(
      status.apps[0]!.instances.some((i) => i.state === 'ready'),
      'one instance is still ready',
    );
    assert.equal(await getStatus(daemon.origin), 200);
  });
});

describe('a controller crash', () => {
  // Each test starts its own daemon: both deploy, and the second checks the revision it deployed.
  const config = (port: number) => sampleAppConfig(port, { replicas: 2 });

  it('loses no request: the proxy keeps serving and the restarted controller adopts the running instances', async (t) => {
    const daemon = await givenDaemonForTest(t, config);
    const load = new LoadClient({ origin: daemon.origin, clients: 16, postShare: 0.25, pauseMs: 2, maxDurationMs: 240_000 });
    load.start();
    const before = await daemon.status();
    await waitFor('the load to flow', () => load.snapshot().requests > 0);
    const requestsAtKill = load.snapshot().requests;
    await daemon.killController();
    // A deploy still works afterwards, through the adopted instances.
    const deploy = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
    const report = await load.stop();

    assert.ok(report.requests - requestsAtKill > 50, `only ${report.requests - requestsAtKill} requests after the kill`);
    assert.ok((report.byRevision['2'] ?? 0) > 0, 'the load reached the revision deployed after the kill');
    assert.deepEqual(report.failures, []);
    const log = fs.readFileSync(`${daemon.dataDir}/daemon.log`, 'utf8');
    for (const instance of before.apps[0]!.instances) assert.match(log, new RegExp(`${instance.id} adopted \\(ready, pid ${instance.pid}`));
    assert.equal((await daemon.status()).apps[0]!.revision, 2);
  });

  it('does not deploy the config file again when the controller restarts', async (t) => {
    const daemon = await givenDaemonForTest(t, config);
    const deploy = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
    // cutover.yaml still says VERSION 1; revision 2 came from --set and must stay.
    const before = await daemon.status();
    assert.equal(before.apps[0]!.revision, 2);
    await daemon.killController();
    await waitFor('instances adopted', async () => (await daemon.status()).apps[0]!.instances.filter((i) => i.state === 'ready').length === 2);
    const after = await daemon.status();
    assert.equal(after.apps[0]!.revision, 2);
    assert.equal(after.apps[0]!.rollout?.id, before.apps[0]!.rollout?.id, 'no new rollout was started');
  });
});

describe('proxy workers', () => {
  const given = givenDaemon((port) => sampleAppConfig(port, { replicas: 1 }));

  it('restarts a dead worker, which serves the current plan from its first connection', async () => {
    const daemon = given();
    const primary = Number(fs.readFileSync(`${daemon.dataDir}/daemon.pid`, 'utf8'));
    const workers = childrenRunning(primary, 'worker-main.js');
    assert.equal(workers.length, 1, 'one proxy worker by default');
    for (const pid of workers) process.kill(pid, 'SIGKILL');

    // While no worker runs, connections may be refused; once one answers, it must know the app.
    const statuses: number[] = [];
    await waitFor('a restarted worker to answer', async () => {
      const status = await getStatus(daemon.origin);
      if (status !== null) statuses.push(status);
      return status !== null;
    });
    assert.deepEqual([...new Set(statuses)], [200]);
    await waitFor('a worker again', () => childrenRunning(primary, 'worker-main.js').length === 1);
    assert.equal(
      childrenRunning(primary, 'worker-main.js').some((pid) => workers.includes(pid)),
      false,
    );
  });
});

function childrenRunning(parent: number, script: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        return ppid === parent && cmdline.includes(script) ? [Number(entry)] : [];
      } catch {
        return [];
      }
    });
}

function getStatus(origin: string): Promise<number | null> {
  return new Promise((resolve) => {
    const request = http.get(origin, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(null));
  });
}
