import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import { DaemonFixture, isProcessGroupAlive, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

/** A file that exists but may not be executed, and a port another process holds, for two of the cases. */
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'co-bad-'));
const notExecutable = path.join(scratch, 'app.sh');
fs.writeFileSync(notExecutable, '#!/bin/sh\nexec sleep 100\n', { mode: 0o644 });
const holder = net.createServer();
await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
const takenPort = (holder.address() as net.AddressInfo).port;
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

const BAD_REVISIONS: { name: string; set: string[]; reason: RegExp }[] = [
  {
    name: 'a command it may not execute',
    set: [`web.run.command=[${JSON.stringify(notExecutable)}]`],
    reason: /permission denied: .*app\.sh cannot be executed/,
  },
  {
    name: 'an app that exits 0 at once',
    set: ['web.run.env.BROKEN=exit-0'],
    reason: /exited with code 0 .* before becoming ready; its last output: "BROKEN=exit-0: nothing to do, bye"/,
  },
  {
    name: 'an app whose port is already taken',
    set: ['web.run.env.BROKEN=port-taken', `web.run.env.TAKEN_PORT=${takenPort}`],
    reason: new RegExp(
      `exited with code 1 .* before becoming ready; its last output: "Error: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${takenPort}"`,
    ),
  },
  {
    name: 'an app that forks grandchildren and never becomes ready',
    set: ['web.run.env.BROKEN=never-ready', 'web.run.env.SPAWN_CHILD=1'],
    reason: /not ready within the startup timeout of 2\.0s/,
  },
  {
    name: 'an app whose readiness flaps',
    set: ['web.run.env.BROKEN=flapping', 'web.run.env.FLAP_MS=400', 'web.strategy.rolling.minReady=3s'],
    reason: /unhealthy: 3 failed checks in a row \(GET \/healthz: HTTP 503\)/,
  },
  // The startup timeout is long enough for the whole flood: the point is the log cap, not the timeout.
  {
    name: 'an app that prints 1 GiB of logs',
    set: ['web.run.env.LOG_FLOOD_BYTES=1073741824', 'web.health.startupTimeout=60s'],
    reason: /exited with code 1 .* before becoming ready; its last output: "BROKEN=log-flood: wrote \d{10} bytes of log, giving up"/,
  },
  {
    name: 'an app that prints a 100 MB log line',
    set: ['web.run.env.LOG_LINE_BYTES=104857600', 'web.health.startupTimeout=60s'],
    reason: /exited with code 1 .* before becoming ready; its last output: "BROKEN=log-flood: wrote 104857601 bytes of log, giving up"/,
  },
  { name: 'a command that does not exist', set: ['web.run.command=[no-such-command-for-cutover]'], reason: /command not found: no-such-command-for-cutover/ },
  { name: 'an app that exits at once', set: ['web.run.env.BROKEN=exit-at-once'], reason: /exited with code 3 .* before becoming ready/ },
  // minReady holds back the next replacement until a new instance has stayed up a while: that is
  // what catches an app that crashes soon after it became ready, before it replaced everything.
  {
    name: 'an app in a crash loop',
    set: ['web.run.env.BROKEN=crash-after', 'web.run.env.CRASH_AFTER_MS=300', 'web.strategy.rolling.minReady=1s'],
    reason: /crashed: exited with code 1 after/,
  },
  {
    name: 'an app that never becomes ready',
    set: ['web.run.env.BROKEN=never-ready'],
    reason: /not ready within the startup timeout of 2\.0s \(last check GET \/healthz: HTTP 503\)$/,
  },
  {
    name: 'a revision that misses its progress deadline',
    set: ['web.run.env.BROKEN=never-ready', 'web.health.startupTimeout=30s', 'web.strategy.rolling.progressDeadline=1s'],
    reason: /progress deadline exceeded: not complete after 1\.0s \(0\/3 of revision \d+ ready, 3 old left\)/,
  },
  {
    name: 'an app listening on the wrong port',
    set: ['web.run.env.BROKEN=wrong-port'],
    reason: /not ready within the startup timeout .*ECONNREFUSED.*does the app listen on \$PORT/,
  },
];

describe('bad new revisions roll back by themselves', () => {
  let daemon: DaemonFixture;
  let load: LoadClient;

  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { startupTimeout: '2s' }));
    // One load for the whole suite (a dozen rollbacks, minutes on a loaded machine): the limit only stops a runaway.
    load = new LoadClient({ origin: daemon.origin, clients: 8, postShare: 0.25, pauseMs: 2, maxDurationMs: 30 * 60_000 });
    load.start();
  });
  after(async () => {
    await load.stop();
    await daemon.stop();
    holder.close();
  });

  for (const bad of BAD_REVISIONS) {
    it(`rolls back ${bad.name}, exits 1 with a specific reason, and the old revision keeps serving`, async () => {
      const before = load.snapshot().failed;
      const requestsBefore = load.snapshot().requests;
      const result = await daemon.cli(['deploy', ...bad.set.flatMap((s) => ['--set', s])]);
      assert.equal(result.code, 1, `deploy exited ${result.code}: ${result.stdout}\n${result.stderr}`);
      const status = await daemon.status();
      const web = status.apps[0]!;
      assert.equal(web.rollout?.phase, 'rolled-back');
      assert.match(web.rollout?.reason ?? '', bad.reason);
      assert.equal(web.revision, 1, 'the stable revision stays 1');
      const live = web.instances.filter((i) => i.state === 'ready');
      assert.equal(live.length, 3);
      assert.ok(live.every((i) => i.revision === 1));
      assert.ok(load.snapshot().requests - requestsBefore > 20, `only ${load.snapshot().requests - requestsBefore} requests during the deploy`);
      assert.equal(load.snapshot().failed - before, 0, `failed requests: ${JSON.stringify(load.snapshot().failures)}\n${daemon.logTail()}`);
      // Every process the bad revision started is gone, its whole group with it.
      const badInstances = web.instances.filter((i) => i.revision !== 1);
      for (const instance of badInstances)
        if (instance.pid) await waitFor(`the group of ${instance.id} to be empty`, () => !isProcessGroupAlive(instance.pid!));
      // Logs stay under their cap (10 MiB, the older part in .1).
      for (const file of fs.readdirSync(path.join(daemon.dataDir, 'logs', 'web'))) {
        assert.ok(fs.statSync(path.join(daemon.dataDir, 'logs', 'web', file)).size <= 10 * 1024 * 1024, `${file} is over its cap`);
      }
      const controllerRss = controllerRssBytes((await daemon.client.health()).pid);
      assert.ok(controllerRss < 200 * 1024 * 1024, `the controller uses ${Math.round(controllerRss / 1024 / 1024)} MiB`);
    });
  }
});

describe('stopping an instance that ignores SIGTERM', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) =>
      sampleAppConfig(port, { replicas: 1, stopTimeout: '500ms', env: { BROKEN: 'ignore-sigterm', SPAWN_CHILD: '1' } }),
    );
  });
  after(async () => daemon.stop());

  it('kills its whole process group after stopTimeout', async () => {
    const before = await daemon.status();
    const old = before.apps[0]!.instances.find((i) => i.state === 'ready')!;
    const childPidFile = path.join(daemon.dataDir, 'logs', 'web', `${old.id}.log`);
    await waitFor('the instance to spawn its child', () => /child pid \d+/.test(fs.readFileSync(childPidFile, 'utf8')));
    const grandchild = Number(/child pid (\d+)/.exec(fs.readFileSync(childPidFile, 'utf8'))![1]);

    const result = await daemon.cli(['deploy', '--set', 'web.run.env.BROKEN=none', '--set', 'web.run.env.SPAWN_CHILD=0']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /ignored SIGTERM for 500ms: killed its process group/);
    await waitFor('the old group to be gone', () => !isProcessGroupAlive(old.pid!));
    assert.throws(() => process.kill(grandchild, 0), /ESRCH/, 'the grandchild was killed with its group');
  });
});

/** Resident memory of a process, from /proc. */
function controllerRssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}
