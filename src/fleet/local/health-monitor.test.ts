import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STARTING_CHECK_MS, STARTING_FAST_CHECKS_MS, startingCheckDelayMs } from './health-monitor.js';

describe('startingCheckDelayMs', () => {
  it('checks a starting instance every 50 ms, so readiness is seen within 100 ms', () => {
    assert.equal(startingCheckDelayMs(0, 1_000), STARTING_CHECK_MS);
    assert.equal(startingCheckDelayMs(STARTING_FAST_CHECKS_MS, 1_000), STARTING_CHECK_MS);
  });

  it('never waits longer than the health interval, which may be shorter', () => {
    assert.equal(startingCheckDelayMs(0, 20), 20);
    assert.equal(startingCheckDelayMs(60_000, 1_000), 1_000);
  });

  it('backs off towards the interval for an instance that keeps starting past the fast window', () => {
    const delays = [11_000, 12_000, 13_000, 20_000].map((since) => startingCheckDelayMs(since, 5_000));
    assert.deepEqual(
      delays,
      [...delays].sort((a, b) => a - b),
      'the gap only grows',
    );
    assert.ok(delays[0]! > STARTING_CHECK_MS && delays[3]! <= 5_000, String(delays));
  });
});
