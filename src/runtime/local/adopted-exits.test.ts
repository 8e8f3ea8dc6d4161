import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { AdoptedExits } from './adopted-exits.js';
import { processIdentity } from './process-identity.js';

describe('AdoptedExits', () => {
  it('sees each watched process exit, and only that one', async () => {
    const children = [0, 1].map(() => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' }));
    try {
      const exits = new AdoptedExits();
      const ended: number[] = [];
      for (const child of children) {
        const identity = processIdentity(child.pid!);
        assert.ok(identity, 'precondition: the process has an identity');
        void exits.exitOf(child.pid!, identity).then(() => ended.push(child.pid!));
      }
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.deepEqual(ended, [], 'nothing exited yet');
      children[0]!.kill('SIGKILL');
      const deadline = performance.now() + 5_000;
      while (ended.length === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(ended, [children[0]!.pid]);
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
  });

  it('takes a reused pid for an exit: the identity it had when adopted is gone', async () => {
    const exits = new AdoptedExits();
    const started = performance.now();
    await exits.exitOf(process.pid, 'not-this-process-start-time');
    assert.ok(performance.now() - started < 1_000);
  });
});
