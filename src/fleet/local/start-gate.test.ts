import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StartGate } from './start-gate.js';

describe('StartGate', () => {
  it('admits at most its limit of starts at once, the next one when a start leaves, in order (issue 25: up with 100 apps)', async () => {
    const gate = new StartGate(2, 60_000);
    const admitted: number[] = [];
    const entries = Array.from({ length: 5 }, (_, n) => gate.enter().then((leave) => (admitted.push(n), leave)));
    const [first, second] = await Promise.all([entries[0]!, entries[1]!]);
    assert.deepEqual(admitted, [0, 1]);
    assert.equal(gate.queued, 3, 'the others wait');
    first!();
    first!(); // a second leave of the same slot frees nothing more
    const third = await entries[2]!;
    assert.deepEqual(admitted, [0, 1, 2]);
    assert.equal(gate.queued, 2, 'one slot freed, one admitted');
    second!();
    third!();
    for (const leave of await Promise.all(entries.slice(3))) leave();
    assert.deepEqual(admitted, [0, 1, 2, 3, 4]);
    assert.equal(gate.starting, 0, 'every slot free again');
  });

  it('admits one start per turn of the event loop: spawns block the process, and each turn accepts one admin connection', async () => {
    const gate = new StartGate(10, 60_000);
    const order: string[] = [];
    const entries = Array.from({ length: 3 }, (_, n) => gate.enter().then((leave) => (order.push(`start ${n}`), leave)));
    // A connection arriving meanwhile is seen between two admissions, not after all of them.
    setImmediate(() => order.push('io'));
    for (const leave of await Promise.all(entries)) leave();
    assert.ok(order.indexOf('io') < order.indexOf('start 2'), `one turn between admissions: ${order.join(', ')}`);
  });

  it('frees a slot by itself after the hold limit: a slow start does not hold back the others', async () => {
    const gate = new StartGate(1, 30);
    // The gate's own timer does not keep a process up.
    const keepAlive = setTimeout(() => {}, 5_000);
    const started = performance.now();
    await gate.enter();
    await gate.enter();
    clearTimeout(keepAlive);
    assert.ok(performance.now() - started >= 25, 'the second start waited for the first one to time out');
  });
});
