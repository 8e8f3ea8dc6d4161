import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptFailed, attemptSucceeded, pendingRecord } from './cert-record.js';
import { reconcileHosts, renewAllNow } from './reconcile-hosts.js';

const DAY = 24 * 60 * 60_000;
const facts = { issuer: 'Test CA', notBefore: 0, notAfter: 90 * DAY };
const nothingOnDisk = (): null => null;

describe('reconcileHosts', () => {
  it('adds new hosts as pending, in lower case, once, sorted', () => {
    const records = reconcileHosts([], ['b.example', 'A.example', 'a.example'], nothingOnDisk, 5);
    assert.deepEqual(
      records.map((r) => [r.host, r.state, r.nextAttempt]),
      [
        ['a.example', 'pending', 5],
        ['b.example', 'pending', 5],
      ],
    );
  });

  it('keeps a known host as it is, backoff included', () => {
    const failed = attemptFailed(pendingRecord('a.example', 0), 'refused', 0);
    assert.deepEqual(reconcileHosts([failed], ['a.example'], nothingOnDisk, 1_000), [failed]);
  });

  it('drops hosts no longer wanted', () => {
    const records = reconcileHosts([pendingRecord('a.example', 0), pendingRecord('b.example', 0)], ['b.example'], nothingOnDisk, 0);
    assert.deepEqual(
      records.map((r) => r.host),
      ['b.example'],
    );
  });

  it('records a host that cannot use HTTP-01 as failed, never to be tried, without reading the disk for it', () => {
    const read: string[] = [];
    const [record] = reconcileHosts([], ['*.example.com'], (host) => (read.push(host), null), 0);
    assert.equal(record?.state, 'failed');
    assert.equal(record?.nextAttempt, null);
    assert.match(record?.lastError ?? '', /wildcard/);
    assert.deepEqual(read, []);
  });

  it('finds a certificate already on disk for a host with no record', () => {
    const [record] = reconcileHosts([], ['a.example'], () => facts, 0);
    assert.equal(record?.state, 'valid');
    assert.equal(record?.notAfter, facts.notAfter);
  });

  it('obtains again a certificate whose files went missing', () => {
    const valid = attemptSucceeded(pendingRecord('a.example', 0), facts);
    const [record] = reconcileHosts([valid], ['a.example'], nothingOnDisk, 77);
    assert.equal(record?.state, 'pending');
    assert.equal(record?.nextAttempt, 77);
  });
});

describe('renewAllNow', () => {
  it('makes every host that is tried due now, and leaves rejected ones alone', () => {
    const valid = attemptSucceeded(pendingRecord('a.example', 0), facts);
    const rejected = { ...pendingRecord('*.x.example', 0), nextAttempt: null };
    assert.deepEqual(
      renewAllNow([valid, rejected], 9).map((r) => r.nextAttempt),
      [9, null],
    );
  });
});
