import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptFailed, attemptStarted, attemptSucceeded, certificateLost, pendingRecord, recordFromDisk, rejectedRecord } from './cert-record.js';
import { renewalTime } from './renewal-plan.js';

const DAY = 24 * 60 * 60_000;
const facts = { issuer: 'Test CA', notBefore: 1_000, notAfter: 1_000 + 90 * DAY };

describe('certificate record transitions', () => {
  it('a new host is pending and due at once', () => {
    assert.deepEqual(pendingRecord('a.example', 42), {
      host: 'a.example',
      issuer: null,
      notBefore: null,
      notAfter: null,
      state: 'pending',
      lastError: null,
      nextAttempt: 42,
      failures: 0,
    });
  });

  it('an attempt is pending without a certificate and renewing with one', () => {
    assert.equal(attemptStarted(pendingRecord('a.example', 0)).state, 'pending');
    assert.equal(attemptStarted(attemptSucceeded(pendingRecord('a.example', 0), facts)).state, 'renewing');
  });

  it('success makes it valid until its renewal time and clears the failures', () => {
    const failed = attemptFailed(attemptFailed(pendingRecord('a.example', 0), 'no', 0), 'no', 0);
    const valid = attemptSucceeded(attemptStarted(failed), facts);
    assert.equal(valid.state, 'valid');
    assert.equal(valid.issuer, 'Test CA');
    assert.equal(valid.notAfter, facts.notAfter);
    assert.equal(valid.nextAttempt, renewalTime(facts.notBefore, facts.notAfter));
    assert.equal(valid.failures, 0);
    assert.equal(valid.lastError, null);
  });

  it('failure keeps the certificate, records the error and backs off longer each time', () => {
    const valid = attemptSucceeded(pendingRecord('a.example', 0), facts);
    const once = attemptFailed(attemptStarted(valid), 'connection refused', 10_000);
    assert.equal(once.state, 'failed');
    assert.equal(once.notAfter, facts.notAfter, 'the old certificate is still there and served');
    assert.equal(once.lastError, 'connection refused');
    assert.equal(once.nextAttempt, 10_000 + 5 * 60_000);
    const twice = attemptFailed(attemptStarted(once), 'connection refused', 20_000);
    assert.equal(twice.failures, 2);
    assert.equal(twice.nextAttempt, 20_000 + 10 * 60_000);
  });

  it("waits for the CA's Retry-After when it is later than the backoff, never sooner than the backoff", () => {
    const rateLimited = attemptFailed(pendingRecord('a.example', 0), 'too many certificates', 0, 3 * 60 * 60_000);
    assert.equal(rateLimited.nextAttempt, 3 * 60 * 60_000);
    const early = attemptFailed(pendingRecord('a.example', 0), 'busy', 0, 60_000);
    assert.equal(early.nextAttempt, 5 * 60_000, 'the backoff still holds');
  });

  it('a rejected host is failed with its reason and never tried', () => {
    const record = rejectedRecord('*.example.com', 'wildcards need DNS-01');
    assert.equal(record.state, 'failed');
    assert.equal(record.nextAttempt, null);
    assert.equal(record.lastError, 'wildcards need DNS-01');
  });

  it('a certificate found on disk is valid; one lost from disk is obtained again now', () => {
    const found = recordFromDisk('a.example', facts);
    assert.equal(found.state, 'valid');
    assert.equal(found.nextAttempt, renewalTime(facts.notBefore, facts.notAfter));
    const lost = certificateLost(found, 7);
    assert.equal(lost.state, 'pending');
    assert.equal(lost.notAfter, null);
    assert.equal(lost.nextAttempt, 7);
  });
});
