import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RESTART_BACKOFF_MAX_MS, RestartBackoff } from './restart-backoff.js';

describe('RestartBackoff', () => {
  it('doubles the wait after each failure of a revision, up to the cap', () => {
    const backoff = new RestartBackoff();
    const waits: number[] = [];
    let now = 0;
    for (let n = 0; n < 10; n++) {
      backoff.recordFailure(2, now);
      let wait = 0;
      while (!backoff.canStart(2, now + wait)) wait += 1;
      waits.push(wait);
      now += wait;
    }
    assert.deepEqual(waits.slice(0, 5), [250, 500, 1_000, 2_000, 4_000]);
    assert.equal(Math.max(...waits), RESTART_BACKOFF_MAX_MS);
  });

  it('does not hold back another revision of the app', () => {
    const backoff = new RestartBackoff();
    for (let n = 0; n < 5; n++) backoff.recordFailure(4, 0);
    assert.equal(backoff.canStart(4, 100), false);
    assert.equal(backoff.canStart(1, 0), true);
  });

  it('starts over after a reset', () => {
    const backoff = new RestartBackoff();
    for (let n = 0; n < 5; n++) backoff.recordFailure(1, 0);
    backoff.reset(1);
    assert.equal(backoff.canStart(1, 0), true);
    backoff.recordFailure(1, 0);
    assert.equal(backoff.canStart(1, 250), true);
  });
});
