import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LoadClient } from '../src/load/load-client.js';
import { DaemonFixture, isProcessGroupAlive, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

const BAD_REVISIONS: { name: string; set: string[]; reason: RegExp }[] = [
  { name: 'a command that does not exist', set: ['web.run.command=[no-such-command-for-cutover]'], reason: /command not found: no-such-command-for-cutover/ },
  { name: 'an app that exits at once', set: ['web.run.env.BROKEN=exit-at-once'], reason: /exited with code 3 .* before becoming ready/ },
  // minReady holds back the next replacement until a new instance has stayed up a while: that is
  // what catches an app that crashes soon after it became ready, before it replaced everything.
  {
    name: 'an app in a crash loop',
    set: ['web.run.env.BROKEN=crash-after', 'web.run.env.CRASH_AFTER_MS=300', 'web.strategy.rolling.minReady=1s'],
    reason: /crashed: exited with code 1 after/,
  },
  { name: 'an app that never becomes ready', set: ['web.run.env.BROKEN=never-ready'], reason: /not ready within the startup timeout of 2\.0s \(last check GET \/healthz: HTTP 503\)$/ },
  {
    name: 'a revision that misses its progress deadline',
    set: ['web.run.env.BROKEN=never-ready', 'web.health.startupTimeout=30s', 'web.strategy.rolling.progressDeadline=1s'],
    reason: /progress deadline exceeded: not complete after 1\.0s \(0\/3 of revision \d+ ready, 3 old left\)/,
  },
  { name: 'an app listening on the wrong port', set: ['web.run.env.BROKEN=wrong-port'], reason: /not ready within the startup timeout .*ECONNREFUSED.*does the app listen on \$PORT/ },
];

describe('bad new revisions roll back by themselves', () => {
  let daemon: DaemonFixture;
  let load: LoadClient;

  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { startupTimeout: '2s' }));
    load = new LoadClient({ origin: daemon.origin, clients: 8, postShare: 0.25, pauseMs: 2, maxDurationMs: 120_000 });
    load.start();
  });
  after(async () => {
    await load.stop();
    await daemon.stop();
  });

  for (const bad of BAD_REVISIONS) {
    it(`rolls back ${bad.name}, exits 1 with a specific reason, and the old revision keeps serving`, async () => {
      const before = load.snapshot().failed;
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
      assert.equal(load.snapshot().failed - before, 0, `failed requests: ${JSON.stringify(load.snapshot().failures)}\n${daemon.logTail()}`);
    });
  }
});

describe('stopping an instance that ignores SIGTERM', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 1, stopTimeout: '500ms', env: { BROKEN: 'ignore-sigterm', SPAWN_CHILD: '1' } }));
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
