/**
 * `cutover status APP --watch` off a terminal: one plain, timestamped line per change of the
 * rollout's phase, step, traffic or gate, while a canary is deployed and promoted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { givenDaemon, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { repoRoot } from './helpers/repo.js';

describe('status --watch off a terminal', () => {
  const daemon = givenDaemon((port) =>
    sampleAppConfig(port, { replicas: 1, strategy: 'canary: { steps: [{ setWeight: 25 }, { pause: {} }], abortScaleDownDelay: 0s }' }),
  );

  test('prints one line per change: the deploy, the weight, the gate, the promotion', async () => {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot(), 'bin', 'cutover.js'), 'status', 'web', '--watch', '-c', daemon().configPath, '--data-dir', daemon().dataDir],
      {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = (): string[] => stdout.split('\n').filter(Boolean);
    try {
      await waitFor('the first line', () => lines().length >= 1);
      assert.match(lines()[0]!, /^\d\d:\d\d:\d\d\.\d{3} web rollout 1 promoted; revision - → 1; .*traffic r1 100%; instances r1 1 ready$/);

      assert.equal((await daemon().cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=2'])).code, 0);
      await waitFor('a line at the gate', () => lines().some((l) => l.includes('gate: ')), 20_000);
      const gate = lines().find((l) => l.includes('gate: '))!;
      assert.match(
        gate,
        /web rollout 2 paused; revision 1 → 2; step 2\/2 pause \(until promoted\); traffic r2 25% r1 75%; instances r2 1 ready, r1 1 ready; gate: canary at 25%: run cutover promote web to go on$/,
      );

      const seen = lines().length;
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      assert.equal(lines().length, seen, 'nothing changed, nothing printed (the rates are not in plain lines)');

      assert.equal((await daemon().cli(['promote', 'web'])).code, 0);
      await waitFor('a line saying promoted', () => lines().some((l) => / rollout 2 promoted; .*traffic r2 100%; instances r2 1 ready/.test(l)), 20_000);
      assert.equal(new Set(lines().map((l) => l.slice(13))).size, lines().length, 'no line repeats the one before');
      assert.equal(stderr, '');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('--watch names an app that does not exist: exit 2', async () => {
    const result = await daemon().cli(['status', 'nope', '--watch']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /no app named "nope"/);
  });
});
