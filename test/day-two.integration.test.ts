import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DaemonFixture, runCli, sampleAppConfig } from './helpers/daemon-fixture.js';

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
