import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonFixture, sampleAppConfig } from './helpers/daemon-fixture.js';

describe('issue 21: --set on up and deploy', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 1 }), { upArgs: ['--set', 'web.run.env.GREETING=a: b'] });
  });
  after(async () => daemon.stop());

  it('up --set deploys with the override, and an env value is a string whatever it looks like', async () => {
    const { revisions } = await daemon.client.history('web');
    assert.equal(revisions.length, 1);
    assert.equal(revisions[0]!.env['GREETING'], 'a: b');
    const deployed = await daemon.cli(['deploy', '--set', 'web.run.env.GREETING=true', '--set', 'web.run.env.CODE=010']);
    assert.equal(deployed.code, 0, deployed.stderr);
    const latest = (await daemon.client.history('web')).revisions.at(-1)!;
    assert.deepEqual([latest.env['GREETING'], latest.env['CODE']], ['true', '010']);
  });

  it('an unknown app in --set says there is no such app, exit 2', async () => {
    const result = await daemon.cli(['deploy', '--set', 'api.replicas=2']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /there is no app named "api" in the config \(from --set\)/);
    assert.match(result.stderr, /apps in the config: web/);
  });
});
