import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSuccessorLaunch, successorLaunchFile, writePrivateJson } from './restart-files.js';

function scratch(): string {
  return successorLaunchFile(fs.mkdtempSync(path.join(os.tmpdir(), 'co-launch-')));
}

describe("readSuccessorLaunch: how a restart's new cutover asks to be started", () => {
  it('reads a launch written whole, 0600', () => {
    const file = scratch();
    const launch = { script: '/opt/cutover/dist/src/cli/daemon-main.js', nodeFlags: ['--jitless'], env: { CUTOVER_DAEMON_OPTIONS: '{}' } };
    writePrivateJson(file, launch);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readSuccessorLaunch(file), launch);
  });

  it('reads no file, bad JSON and every wrong shape as none (the restart then fails with a reason)', () => {
    const file = scratch();
    assert.equal(readSuccessorLaunch(file), undefined, 'no file');
    const shapes: unknown[] = [
      null,
      [],
      { nodeFlags: [], env: {} },
      { script: 1, nodeFlags: [], env: {} },
      { script: 'x', nodeFlags: '--jitless', env: {} },
      { script: 'x', nodeFlags: [1], env: {} },
      { script: 'x', nodeFlags: [], env: null },
      { script: 'x', nodeFlags: [], env: { A: 1 } },
    ];
    for (const shape of shapes) {
      fs.writeFileSync(file, JSON.stringify(shape));
      assert.equal(readSuccessorLaunch(file), undefined, JSON.stringify(shape));
    }
    fs.writeFileSync(file, '{"script":');
    assert.equal(readSuccessorLaunch(file), undefined, 'half a file');
  });
});
