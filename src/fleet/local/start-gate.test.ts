import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { StartGate } from './start-gate.js';

describe('StartGate', () => {
  it('admits at most its limit of starts at once, the next one when a start leaves, in order (issue 25: up with 100 apps)', async () => {
    const gate = new StartGate(2, 60_000);
    const admitted: number[] = [];
    const leaves: (() => void)[] = [];
    const entries = Array.from({ length: 5 }, (_, n) => gate.enter().then((leave) => (admitted.push(n), leaves.push(leave))));
    await sleep(10);
    assert.deepEqual(admitted, [0, 1]);
    assert.equal(gate.queued, 3);
    leaves[0]!();
    leaves[0]!(); // a second leave of the same slot frees nothing more
    await sleep(10);
    assert.deepEqual(admitted, [0, 1, 2]);
    for (const leave of [...leaves]) leave();
    await sleep(10);
    for (const leave of [...leaves]) leave();
    await Promise.all(entries);
    assert.deepEqual(admitted, [0, 1, 2, 3, 4]);
    assert.equal(gate.starting, 0, 'every slot free again');
  });

  it('frees a slot by itself after the hold limit: a slow start does not hold back the others', async () => {
    const gate = new StartGate(1, 30);
    // The gate's own timer does not keep a process up.
    const keepAlive = setTimeout(() => {}, 5_000);
    await gate.enter();
    const started = performance.now();
    await gate.enter();
    clearTimeout(keepAlive);
    assert.ok(performance.now() - started >= 25, 'the second start waited for the first one to time out');
  });
});
