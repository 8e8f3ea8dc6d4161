import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import { DaemonFixture, runCli, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

describe('issue 21: answers about an unknown app, and down with nothing running', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 1 }));
  });
  after(async () => daemon.stop());

  for (const command of [['status'], ['status', '--json'], ['history'], ['report'], ['rollback'], ['logs']]) {
    it(`${command.join(' ')} of an unknown app exits 2 with "no app named" and the known apps`, async () => {
      const [verb, ...flags] = command;
      const result = await daemon.cli([verb!, 'nosuchapp', ...flags]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /no app named "nosuchapp" \(known apps: web\)/);
      assert.equal(result.stdout, '');
    });
  }

  it('status, history and logs of a known app still exit 0 (the precondition of the cases above)', async () => {
    for (const verb of ['status', 'history', 'logs']) {
      const result = await daemon.cli([verb, 'web']);
      assert.equal(result.code, 0, `${verb}: ${result.stderr}`);
    }
  });

  it('down with no daemon running exits 0 and says it is not running', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-down-'));
    try {
      fs.writeFileSync(path.join(dir, 'cutover.yaml'), sampleAppConfig(1));
      const result = await runCli(['down', '-c', path.join(dir, 'cutover.yaml')]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /not running/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('issue 21: cutover scale', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 2, env: { KEEPALIVE_MS: '1000' } }));
  });
  after(async () => daemon.stop());

  const ready = async (): Promise<{ revision: number | null; ids: string[] }> => {
    const web = (await daemon.status()).apps[0]!;
    return { revision: web.revision, ids: web.instances.filter((i) => i.state === 'ready').map((i) => i.id) };
  };

  it('scales the stable revision up and down under load with 0 failed requests and no new revision', async () => {
    const before = await ready();
    assert.equal(before.ids.length, 2, 'precondition: 2 ready instances');
    const load = new LoadClient({ origin: daemon.origin, clients: 16, maxDurationMs: 60_000 });
    load.start();
    const up = await daemon.cli(['scale', 'web', '4']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /scaling revision 1 from 2 to 4 instances/);
    const afterUp = await ready();
    const down = await daemon.cli(['scale', 'web', '1']);
    assert.equal(down.code, 0, down.stderr);
    const afterDown = await ready();
    const report = await load.stop();

    assert.ok(report.requests > 100, `only ${report.requests} requests were sent`);
    assert.deepEqual(report.failures, [], `failed requests: ${JSON.stringify(report.failures)}`);
    assert.equal(report.failed, 0);
    assert.equal(afterUp.ids.length, 4);
    assert.ok(
      before.ids.every((id) => afterUp.ids.includes(id)),
      'scaling up keeps the instances that ran',
    );
    assert.equal(afterDown.ids.length, 1);
    assert.deepEqual([afterUp.revision, afterDown.revision], [1, 1], 'no new revision');
    assert.equal((await daemon.client.history('web')).revisions.length, 1);
  });

  it('shows each scale in history and in the event stream', async () => {
    const history = await daemon.cli(['history', 'web']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /1 instance \(the app's count, not a revision's\)/);
    assert.match(history.stdout, /scaled from 2 to 4 instances of revision 1 \(no new revision\)/);
    assert.match(history.stdout, /scaled from 4 to 1 instance of revision 1/);
    const { events } = await daemon.client.events({ app: 'web' });
    assert.deepEqual(
      events.filter((e) => e.kind === 'app-scaled').map((e) => e.message.slice(0, 'scaled from 2 to 4'.length)),
      ['scaled from 2 to 4', 'scaled from 4 to 1'],
    );
  });

  it('a deploy of the same spec with another replicas scales without a new revision', async () => {
    const result = await daemon.cli(['deploy', '--set', 'web.replicas=2']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /unchanged, revision 1; scaled from 1 to 2 instances/);
    await waitFor('2 ready instances', async () => (await ready()).ids.length === 2);
    assert.equal((await daemon.client.history('web')).revisions.length, 1);
  });

  it('exits 2 for an unknown app or a count that is not a whole number ≥ 1', async () => {
    const unknown = await daemon.cli(['scale', 'nosuchapp', '2']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /no app named "nosuchapp" \(known apps: web\)/);
    for (const count of ['0', 'two', '1001']) {
      const bad = await daemon.cli(['scale', 'web', count]);
      assert.equal(bad.code, 2, `${count}: ${bad.stderr}`);
    }
  });

  it('is refused with exit 1 during a rollout, naming the rollout', async () => {
    const first = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.BROKEN=never-ready', '--set', 'web.health.startupTimeout=60s']);
    assert.equal(first.code, 0, first.stderr);
    const active = (await daemon.status()).apps[0]!.rollout!;
    assert.equal(active.phase, 'progressing', 'precondition: a rollout runs');
    const refused = await daemon.cli(['scale', 'web', '3']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`has rollout ${active.id} progressing`));
    assert.equal((await daemon.cli(['rollback', 'web'])).code, 0);
  });
});
