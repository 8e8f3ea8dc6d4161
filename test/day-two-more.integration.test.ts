import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DaemonFixture, runCli, sampleAppConfig } from './helpers/daemon-fixture.js';
import { findFreePort } from '../src/runtime/local/free-port.js';

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

describe('issue 21: up checks the listen addresses before the daemon starts', () => {
  it('a port in use is exit 2 with the address and the process holding it, and no daemon starts', async () => {
    const port = await findFreePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-busy-'));
    try {
      fs.writeFileSync(path.join(dir, 'cutover.yaml'), sampleAppConfig(port, { replicas: 1 }));
      const result = await runCli(['up', '--detach', '-c', path.join(dir, 'cutover.yaml')]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`app web cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use; ${process.pid} \\(`));
      assert.ok(!fs.existsSync(path.join(dir, '.cutover', 'daemon.pid')), 'no daemon started');
    } finally {
      holder.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
