import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { givenDaemon, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { repoRoot } from './helpers/repo.js';

describe('issue 21: status --watch lists instances', () => {
  const daemon = givenDaemon((port) => sampleAppConfig(port, { replicas: 2 }));

  it('off a terminal, the watch line counts the instances per revision and state, and a new line comes when one changes', async () => {
    const before = (await daemon().status()).apps[0]!;
    // Precondition: two ready instances of revision 1.
    assert.deepEqual(
      before.instances.map((i) => [i.revision, i.state]),
      [
        [1, 'ready'],
        [1, 'ready'],
      ],
    );
    const watch = spawn(
      process.execPath,
      [path.join(repoRoot(), 'bin', 'cutover.js'), 'status', '--watch', '-c', daemon().configPath, '--data-dir', daemon().dataDir],
      {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    watch.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      await waitFor('the first watch line', () => stdout.includes('instances r1 2 ready'), 15_000);
      const scaled = await daemon().cli(['scale', 'web', '3']);
      assert.equal(scaled.code, 0, scaled.stderr);
      await waitFor('a watch line with the third instance', () => stdout.includes('instances r1 3 ready'), 20_000);
    } finally {
      watch.kill('SIGKILL');
    }
  });
});
