import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIRST_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, retryDelayMs } from './retry-backoff.js';

describe('retryDelayMs', () => {
  it('waits 5 minutes after the first failure and doubles after each one', () => {
    assert.equal(FIRST_RETRY_DELAY_MS, 5 * 60_000);
    assert.deepEqual(
      [1, 2, 3, 4].map(retryDelayMs),
      [5, 10, 20, 40].map((m) => m * 60_000),
    );
  });

  it('never waits more than 6 hours, however many failures', () => {
    assert.equal(MAX_RETRY_DELAY_MS, 6 * 60 * 60_000);
    assert.equal(retryDelayMs(8), MAX_RETRY_DELAY_MS); // 5 min × 128 would be 10.7 h
    assert.equal(retryDelayMs(1_000_000), MAX_RETRY_DELAY_MS);
  });

  it('does not wait before any failure', () => {
    assert.equal(retryDelayMs(0), 0);
  });
});
