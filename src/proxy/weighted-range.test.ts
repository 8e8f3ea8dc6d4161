import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { weightedRangeIndex } from './weighted-range.js';

const split = (...weights: number[]) => weights.map((weight) => ({ weight }));

describe('weightedRangeIndex', () => {
  test('items own consecutive ranges of the hash space in list order', () => {
    const items = split(10, 90);
    assert.equal(weightedRangeIndex(0, items, 100), 0);
    assert.equal(weightedRangeIndex(Math.floor(0.0999 * 2 ** 32), items, 100), 0);
    assert.equal(weightedRangeIndex(Math.ceil(0.1 * 2 ** 32), items, 100), 1);
    assert.equal(weightedRangeIndex(0xffff_ffff, items, 100), 1);
  });

  test('a hash in the first range stays there while the first weight grows', () => {
    for (let hash = 0; hash < 2 ** 32; hash += 9_973_121) {
      if (weightedRangeIndex(hash, split(10, 90), 100) !== 0) continue;
      assert.equal(weightedRangeIndex(hash, split(20, 80), 100), 0);
      assert.equal(weightedRangeIndex(hash, split(50, 50), 100), 0);
      assert.equal(weightedRangeIndex(hash, split(1, 1), 2), 0);
    }
  });

  test('three items split evenly spaced hashes by weight', () => {
    const counts = [0, 0, 0];
    const steps = 10_000;
    for (let i = 0; i < steps; i++) counts[weightedRangeIndex(Math.floor(((i + 0.5) / steps) * 2 ** 32), split(1, 2, 7), 10)]!++;
    assert.deepEqual(counts, [1_000, 2_000, 7_000]);
  });

  test('an empty list gives -1', () => {
    assert.equal(weightedRangeIndex(123, [], 0), -1);
  });
});
