import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PredecessorHold } from './predecessor-hold.js';

describe('PredecessorHold', () => {
  it('counts one request in flight on each instance the old daemon routes to while it runs', () => {
    const hold = new PredecessorHold(process.pid, ['web-1-a', 'web-1-b']);
    const inflight: Record<string, number> = { 'web-1-a': 2, 'web-2-c': 1 };
    hold.addTo(inflight);
    assert.deepEqual(inflight, { 'web-1-a': 3, 'web-1-b': 1, 'web-2-c': 1 });
  });

  it('adds nothing once the old daemon has exited, and never again', () => {
    const exited = spawnSync(process.execPath, ['-e', '']);
    assert.equal(exited.status, 0, 'precondition: the process ran and exited');
    const hold = new PredecessorHold(exited.pid!, ['web-1-a']);
    const inflight: Record<string, number> = {};
    hold.addTo(inflight);
    assert.deepEqual(inflight, {});
  });
});
