import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inRoundOrder } from './bench-helpers.js';

describe('the order of the paths in a bench round', () => {
  it('goes forward in odd rounds and backward in even ones, every path once', () => {
    assert.deepEqual(inRoundOrder(['a', 'b', 'c'], 1), ['a', 'b', 'c']);
    assert.deepEqual(inRoundOrder(['a', 'b', 'c'], 2), ['c', 'b', 'a']);
    assert.deepEqual(inRoundOrder(['a', 'b', 'c'], 3), ['a', 'b', 'c']);
    assert.deepEqual(inRoundOrder([], 2), []);
  });
});
