import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pendingRecord, rejectedRecord, type CertRecord } from './cert-record.js';
import { MAX_WAKE_DELAY_MS, MIN_WAKE_DELAY_MS, dueHosts, nextWakeDelayMs, renewalTime } from './renewal-plan.js';

const DAY = 24 * 60 * 60_000;
const at = (host: string, nextAttempt: number | null): CertRecord => ({ ...pendingRecord(host, 0), nextAttempt });

describe('renewalTime', () => {
  it('renews a 90-day certificate 30 days before it expires', () => {
    assert.equal(renewalTime(0, 90 * DAY), 60 * DAY);
  });

  it('renews a long-lived certificate 30 days before it expires', () => {
    assert.equal(renewalTime(0, 5 * 365 * DAY), 5 * 365 * DAY - 30 * DAY);
  });

  it('renews a 90-day certificate that ends a second early (as CAs issue them) exactly 30 days before it expires', () => {
    assert.equal(renewalTime(0, 90 * DAY - 1_000), 60 * DAY - 1_000);
  });

  it('renews a short-lived certificate at two thirds of its life, never before it was issued', () => {
    assert.equal(renewalTime(1_000, 1_000 + 6 * DAY), 1_000 + 4 * DAY);
    assert.equal(renewalTime(0, 60 * DAY), 40 * DAY);
    assert.equal(renewalTime(0, 61 * DAY), 31 * DAY);
  });
});

describe('dueHosts', () => {
  it('picks the hosts whose next attempt has come, and never a host with none', () => {
    const records = [at('a.example', 100), at('b.example', 101), at('c.example', 50), rejectedRecord('*.x.example', 'wildcard')];
    assert.deepEqual(dueHosts(records, 100), ['a.example', 'c.example']);
  });
});

describe('nextWakeDelayMs', () => {
  it('sleeps until the earliest next attempt', () => {
    assert.equal(nextWakeDelayMs([at('a.example', 10 * 60_000), at('b.example', 5 * 60_000)], 0), 5 * 60_000);
  });

  it('sleeps at least a minute and at most a day', () => {
    assert.equal(nextWakeDelayMs([at('a.example', 0)], 1_000), MIN_WAKE_DELAY_MS);
    assert.equal(nextWakeDelayMs([at('a.example', 80 * DAY)], 0), MAX_WAKE_DELAY_MS);
  });

  it('does not wake for hosts that are never tried', () => {
    assert.equal(nextWakeDelayMs([rejectedRecord('*.x.example', 'wildcard')], 0), null);
    assert.equal(nextWakeDelayMs([], 0), null);
  });
});
