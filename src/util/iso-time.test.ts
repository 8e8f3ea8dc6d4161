import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('writes what toISOString writes, for any instant of the years 0-9999', () => {
    assert.equal(isoTime(0), '1970-01-01T00:00:00.000Z');
    assert.equal(isoTime(Date.UTC(2026, 11, 6, 23, 40, 1, 250)), '2026-12-06T23:40:01.250Z');
    fc.assert(
      fc.property(fc.integer({ min: new Date('0000-01-01T00:00:00.000Z').getTime(), max: new Date('9999-12-31T23:59:59.999Z').getTime() }), (ms) => {
        assert.equal(isoTime(ms), new Date(ms).toISOString());
      }),
    );
  });

  it('stamps the current time by default', () => {
    const before = Date.now();
    const stamped = Date.parse(isoTime());
    assert.ok(stamped >= before && stamped <= Date.now(), 'between the two readings of the clock');
  });
});
