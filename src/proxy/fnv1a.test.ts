import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fnv1a32 } from './fnv1a.js';

describe('fnv1a32', () => {
  test('matches the published FNV-1a 32-bit test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  test('returns an unsigned 32-bit integer', () => {
    for (const text of ['x', 'cutover', '0123456789abcdef']) {
      const hash = fnv1a32(text);
      assert.ok(Number.isInteger(hash) && hash >= 0 && hash <= 0xffff_ffff);
    }
  });
});
