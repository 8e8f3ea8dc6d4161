import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignedCheckAtMs, CheckSchedule } from './check-schedule.js';

describe('alignedCheckAtMs', () => {
  it('puts every check of an interval on the same grid, once per interval', () => {
    assert.equal(alignedCheckAtMs(10_230, 1_000), 11_000);
    assert.equal(alignedCheckAtMs(10_700, 1_000), 12_000, 'never sooner than half an interval');
    assert.equal(alignedCheckAtMs(11_004, 1_000), 12_000, 'a check that ran on the grid is next due one interval later');
    assert.equal(alignedCheckAtMs(11_004, 250), 11_250);
  });
});

describe('CheckSchedule', () => {
  it('runs every item due at the same time in one wake, none before its time', async () => {
    const wakes: { atMs: number; items: string[] }[] = [];
    const schedule = new CheckSchedule<string>(
      () => performance.now(),
      (item) => {
        const atMs = performance.now();
        const last = wakes.at(-1);
        // Items of one wake run in one synchronous loop: the clock barely moves between them.
        if (last && atMs - last.atMs < 1) last.items.push(item);
        else wakes.push({ atMs, items: [item] });
      },
    );
    const start = performance.now();
    const dueAt: Record<string, number> = { early: start + 10, a: start + 40, b: start + 40, c: start + 40, late: start + 90 };
    for (const [item, atMs] of Object.entries(dueAt)) schedule.at(item, atMs);
    assert.equal(schedule.size, 5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(schedule.size, 0, 'precondition: every item ran');
    const wakeOf = (item: string): number => wakes.findIndex((w) => w.items.includes(item));
    assert.ok(wakeOf('a') === wakeOf('b') && wakeOf('b') === wakeOf('c'), JSON.stringify(wakes));
    assert.ok(wakeOf('early') <= wakeOf('a') && wakeOf('a') <= wakeOf('late'));
    for (const wake of wakes) for (const item of wake.items) assert.ok(wake.atMs >= dueAt[item]! - 2, `${item} ran before its time`);
  });

  it('forgets a cancelled item', async () => {
    const ran: string[] = [];
    const schedule = new CheckSchedule<string>(
      () => performance.now(),
      (item) => ran.push(item),
    );
    schedule.at('kept', performance.now() + 10);
    schedule.at('cancelled', performance.now() + 10);
    schedule.cancel('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(ran, ['kept']);
  });
});
