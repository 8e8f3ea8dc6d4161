import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import { DaemonFixture, runCli, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { findFreePort } from '../src/runtime/local/free-port.js';

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
    const load = new LoadClient({ origin: daemon.origin, clients: 16, maxDurationMs: 240_000 });
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

describe('issue 21: cutover remove, and deploy with apps no longer in the config', () => {
  let daemon: DaemonFixture;
  let apiPort: number;
  const webOnly = (port: number): string => sampleAppConfig(port, { replicas: 2, env: { KEEPALIVE_MS: '1000' } });
  const withApi = (port: number, env: Record<string, string> = {}): string =>
    `${webOnly(port)}\n${sampleAppConfig(apiPort, { replicas: 2, env }).replace('apps:\n  web:', '  api:')}`;
  before(async () => {
    apiPort = await findFreePort();
    daemon = await DaemonFixture.start((port) => withApi(port));
  });
  after(async () => daemon.stop());

  const appNamed = async (name: string) => (await daemon.status()).apps.find((a) => a.name === name);
  const isAlive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('deploy names an app that runs but is no longer in the config, and leaves it', async () => {
    daemon.writeConfig(webOnly(daemon.port));
    const result = await daemon.cli(['deploy']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /api: running but no longer in the config; left as it is \(remove it with cutover remove api, or deploy --prune\)/);
    assert.equal((await appNamed('api'))?.instances.filter((i) => i.state === 'ready').length, 2, 'api still runs');
  });

  it('exits 2 for an unknown app, and without --yes when there is no terminal to ask on', async () => {
    const unknown = await daemon.cli(['remove', 'nosuchapp', '--yes']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /no app named "nosuchapp" \(known apps: api, web\)/);
    const unasked = await daemon.cli(['remove', 'api']);
    assert.equal(unasked.code, 2, unasked.stderr);
    assert.match(unasked.stderr, /--yes/);
    assert.ok(await appNamed('api'), 'nothing was removed');
  });

  it('is refused with exit 1 during a rollout of the app, naming the rollout', async () => {
    daemon.writeConfig(withApi(daemon.port));
    const started = await daemon.cli(['deploy', 'api', '--detach', '--set', 'api.run.env.BROKEN=never-ready', '--set', 'api.health.startupTimeout=60s']);
    assert.equal(started.code, 0, started.stderr);
    const active = (await appNamed('api'))!.rollout!;
    assert.equal(active.phase, 'progressing', 'precondition: a rollout of api runs');
    const refused = await daemon.cli(['remove', 'api', '--yes']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`has rollout ${active.id} progressing`));
    assert.equal((await daemon.cli(['rollback', 'api'])).code, 0);
    await waitFor('the rollback of api ended', async () => (await appNamed('api'))!.rollout?.phase === 'rolled-back', 30_000);
    await waitFor('2 ready instances of api revision 1', async () => {
      const api = (await appNamed('api'))!;
      return (
        api.instances.filter((i) => i.state === 'ready' && i.revision === 1).length === 2 && api.instances.every((i) => i.revision === 1 || i.state !== 'ready')
      );
    });
  });

  it('removes an app under load: 0 failed requests for the app that stays, its instances gone, its history kept', async () => {
    const api = (await appNamed('api'))!;
    const apiPids = api.instances.filter((i) => i.state === 'ready').map((i) => i.pid!);
    assert.equal(apiPids.length, 2, 'precondition: 2 ready instances of api');
    assert.ok(apiPids.every(isAlive), 'precondition: their processes run');
    assert.equal((await fetch(`http://127.0.0.1:${apiPort}/`)).status, 200, 'precondition: api serves');
    const load = new LoadClient({ origin: daemon.origin, clients: 16, maxDurationMs: 240_000 });
    load.start();
    const removed = await daemon.cli(['remove', 'api', '--yes']);
    const report = await load.stop();

    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /api: removed; 2 instances stopped, 2 revisions kept/);
    assert.ok(report.requests > 100, `only ${report.requests} requests were sent`);
    assert.deepEqual(report.failures, [], `failed requests: ${JSON.stringify(report.failures)}`);
    assert.equal(report.failed, 0);
    assert.deepEqual(
      (await daemon.status()).apps.map((a) => a.name),
      ['web'],
      'api left status',
    );
    assert.ok(
      apiPids.every((pid) => !isAlive(pid)),
      'the instances of api stopped',
    );
    await assert.rejects(fetch(`http://127.0.0.1:${apiPort}/`), 'nothing listens for api any more');
    const history = await daemon.cli(['history', 'api']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /rolled-back/);
    assert.doesNotMatch((await daemon.cli(['report', 'api'])).stderr, /no app named/);
    const { events } = await daemon.client.events({ app: 'api' });
    assert.match(events.at(-1)!.message, /^removed: 2 instances of revision 1 stopped; 2 revisions kept in history/);
    assert.equal(events.at(-1)!.kind, 'app-removed');
    assert.equal((await daemon.cli(['status', 'api'])).code, 2, 'a removed app is unknown to status');
  });

  it('deploy --prune removes an app no longer in the config, after it came back with a deploy', async () => {
    daemon.writeConfig(withApi(daemon.port));
    const back = await daemon.cli(['deploy', 'api']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal((await appNamed('api'))?.instances.filter((i) => i.state === 'ready').length, 2, 'precondition: api runs again');
    daemon.writeConfig(webOnly(daemon.port));
    const pruned = await daemon.cli(['deploy', '--prune']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /api: not in the config, removed \(--prune\); 2 instances stopped/);
    assert.equal(await appNamed('api'), undefined);
  });
});
