import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../errors.js';
import { formatDuration, parseDuration } from './parse-duration.js';

function rejection(input: string | number): InputError {
  try {
    parseDuration(input);
  } catch (error) {
    assert.ok(error instanceof InputError);
    assert.equal(error.code, 'DURATION_INVALID');
    return error;
  }
  assert.fail(`parseDuration(${JSON.stringify(input)}) did not throw`);
}

describe('parseDuration', () => {
  it('reads milliseconds, seconds, minutes and hours', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
  });

  it('adds up units written largest first, such as 1m30s and 1h2m3s4ms', () => {
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1h2m3s4ms'), 3_723_004);
  });

  it('accepts zero and decimal amounts that come to whole milliseconds', () => {
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('1.5s'), 1_500);
    assert.equal(parseDuration('0.25m'), 15_000);
  });

  it('accepts exactly 24h but nothing longer', () => {
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.match(rejection('24h1ms').message, /longer than the 24h limit/);
    assert.match(rejection('99999h').message, /longer than the 24h limit/);
  });

  it('rejects a bare number, as a YAML number or as text, with a hint to add a unit', () => {
    for (const input of [10, '10', 0]) {
      const error = rejection(input);
      assert.match(error.message, /bare number|with a unit/);
      assert.match(error.hint ?? '', /write 30s or 500ms/);
    }
  });

  it('rejects negative and empty durations', () => {
    assert.match(rejection('-1s').message, /cannot be negative/);
    assert.match(rejection('').message, /empty/);
    assert.match(rejection('   ').message, /empty/);
  });

  it('rejects unknown units and words, naming the units it knows', () => {
    assert.match(rejection('10d').message, /unknown unit "d"/);
    assert.match(rejection('5min').message, /unknown unit "min"/);
    assert.match(rejection('5 minutes').message, /expected a duration/);
    assert.match(rejection('5 minutes').hint ?? '', /ms, s, m and h/);
  });

  it('rejects malformed text: units out of order, repeated, missing or sub-millisecond', () => {
    assert.match(rejection('30s1m').message, /largest to smallest/);
    assert.match(rejection('1s1s').message, /largest to smallest/);
    assert.match(rejection('1m30').message, /expected a duration/);
    assert.match(rejection('s').message, /expected a duration/);
    assert.match(rejection('0.5ms').message, /whole milliseconds/);
  });
});

describe('formatDuration', () => {
  it('writes milliseconds back in the largest units, and parses back to the same value', () => {
    for (const [ms, text] of [
      [0, '0s'],
      [500, '500ms'],
      [30_000, '30s'],
      [90_000, '1m30s'],
      [600_000, '10m'],
      [3_723_004, '1h2m3s4ms'],
    ] as const) {
      assert.equal(formatDuration(ms), text);
      assert.equal(parseDuration(text), ms);
    }
  });
});
