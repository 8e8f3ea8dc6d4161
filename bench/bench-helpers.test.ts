import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inRotation } from './bench-helpers.js';

describe('the order of the paths in a bench round', () => {
  it('starts one further each round and keeps every path once', () => {
    assert.deepEqual(inRotation(['a', 'b', 'c'], 1), ['a', 'b', 'c']);
    assert.deepEqual(inRotation(['a', 'b', 'c'], 2), ['b', 'c', 'a']);
    assert.deepEqual(inRotation(['a', 'b', 'c'], 4), ['a', 'b', 'c']);
    assert.deepEqual(inRotation([], 3), []);
  });
});
