import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CutoverClient } from '../src/api/client.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { isProcessGroupAlive, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { repoRoot } from './helpers/repo.js';

describe('cutover up in the foreground', () => {
  let dir: string;
  let daemon: ChildProcess;
  let output = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-fg-'));
    fs.writeFileSync(path.join(dir, 'cutover.yaml'), sampleAppConfig(await findFreePort(), { replicas: 2 }));
    daemon = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'cutover.js'), 'up', '-c', path.join(dir, 'cutover.yaml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    daemon.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
  after(() => {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its state in .cutover/ beside the config, logs to the terminal, and stops everything on SIGTERM', async () => {
    const client = new CutoverClient({ socketPath: path.join(dir, '.cutover', 'cutover.sock') });
    await waitFor('the first rollout to be promoted with two ready instances', async () => {
      const app = (await client.status().catch(() => null))?.apps[0];
      return app?.rollout?.phase === 'promoted' && app.instances.filter((i) => i.state === 'ready').length === 2;
    });
    assert.equal(fs.statSync(path.join(dir, '.cutover', 'cutover.sock')).mode & 0o777, 0o600, 'the admin socket is private');
    const pids = (await client.status()).apps[0]!.instances.map((i) => i.pid!);

    const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
    daemon.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /rollout 1 promoted/);
    assert.match(output, /cutover daemon stopped/);
    for (const pid of pids) assert.equal(isProcessGroupAlive(pid), false, `instance ${pid} outlived the daemon`);
    assert.equal(fs.existsSync(path.join(dir, '.cutover', 'daemon.pid')), false, 'the lock is released');
  });
});
