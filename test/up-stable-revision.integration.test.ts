import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonFixture, sampleAppConfig } from './helpers/daemon-fixture.js';

describe('what was deployed stays deployed (issue 20)', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 1 }));
  });
  after(async () => daemon?.stop());

  it('brings a --set deploy back at its revision after down/up, and says what the file would change', async () => {
    // Given a deploy with an override the file does not have
    const deploy = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=7']);
    assert.equal(deploy.code, 0, deploy.stderr);
    const deployed = (await daemon.status()).apps[0]!.revision;
    assert.equal(deployed, 2);
    // When the daemon goes down and comes up again
    assert.equal((await daemon.cli(['down'])).code, 0);
    const up = await daemon.cli(['up', '--detach']);
    // Then revision 2 serves, and up says the file differs from it
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /cutover\.yaml differs from revision 2 \(run\.env\.VERSION: 7 → 1\): cutover deploy rolls it out/);
    const web = (await daemon.status()).apps[0]!;
    assert.equal(web.revision, 2);
    const answer = await fetch(`${daemon.origin}/`);
    assert.match(await answer.text(), /v7/);
  });
});
