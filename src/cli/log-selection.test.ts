import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceLog } from '../daemon/read-instance-logs.js';
import { mergeLines, parseSince, parseTail, selectInstances } from './log-selection.js';

const instance = (id: string, revision: number, stoppedAt: number | null): InstanceLog => ({
  id,
  revision,
  isLive: stoppedAt === null,
  logPath: `/logs/${id}.log`,
  startedAt: 0,
  stoppedAt,
});

describe('which logs cutover logs prints', () => {
  it('the live instances; with --all the ended ones too; with --revision only that revision', () => {
    const all = [instance('a', 1, 1_000), instance('b', 2, null), instance('c', 2, null)];
    assert.deepEqual(
      selectInstances(all, {}).chosen.map((i) => i.id),
      ['b', 'c'],
    );
    assert.deepEqual(
      selectInstances(all, { isAll: true }).chosen.map((i) => i.id),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(selectInstances(all, { revision: 1 }), { chosen: [all[0]], isFallback: true });
  });

  it('with nothing live (the daemon is down), the stable revision instances that stopped last', () => {
    const all = [instance('old', 1, 100_000), instance('a', 2, 110_000), instance('b', 2, 111_000)];
    assert.deepEqual(
      selectInstances(all, { stableRevision: 2 }).chosen.map((i) => i.id),
      ['a', 'b'],
    );
  });

  it('merges lines in time order, keeping one instance order for equal times, then the tail after --since', () => {
    const a = [
      { timeMs: 1, instance: 'a', revision: 1, text: 'a1' },
      { timeMs: 3, instance: 'a', revision: 1, text: 'a2' },
      { timeMs: 3, instance: 'a', revision: 1, text: 'a3' },
    ];
    const b = [{ timeMs: 2, instance: 'b', revision: 1, text: 'b1' }];
    assert.deepEqual(
      mergeLines([a, b], { tail: 10 }).map((l) => l.text),
      ['a1', 'b1', 'a2', 'a3'],
    );
    assert.deepEqual(
      mergeLines([a, b], { tail: 2, sinceMs: 2 }).map((l) => l.text),
      ['a2', 'a3'],
    );
    assert.deepEqual(mergeLines([a, b], { tail: 0 }), []);
  });

  it('reads --since as a duration back from now or as a time, and refuses anything else', () => {
    assert.equal(parseSince('10m', 1_000_000), 400_000);
    assert.equal(parseSince('2026-12-06T10:00:00Z', 0), Date.parse('2026-12-06T10:00:00Z'));
    for (const bad of ['10', 'soon', '5x']) assert.throws(() => parseSince(bad, 0), { code: 'BAD_FLAG' });
    assert.equal(parseTail('0'), 0);
    assert.throws(() => parseTail('-1'), { code: 'BAD_FLAG' });
  });
});
