import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RETRY_AFTER_MS, retryAfterTime } from './retry-after.js';

describe("a CA's Retry-After", () => {
  const now = Date.parse('2026-12-07T06:00:00Z');

  it('reads seconds and HTTP dates', () => {
    assert.equal(retryAfterTime('3600', now), now + 3_600_000);
    assert.equal(retryAfterTime(' 120 ', now), now + 120_000);
    assert.equal(retryAfterTime('Mon, 07 Dec 2026 07:30:00 GMT', now), Date.parse('2026-12-07T07:30:00Z'));
  });

  it('means no wait when absent, unreadable or past, and never more than a week', () => {
    for (const header of [undefined, '', 'soon', '-5', '0', 'Mon, 07 Dec 2026 05:00:00 GMT']) assert.equal(retryAfterTime(header, now), null, String(header));
    assert.equal(retryAfterTime(String(30 * 24 * 3600), now), now + MAX_RETRY_AFTER_MS);
  });
});
