import { retryDelayMs } from './retry-backoff.js';
import { renewalTime } from './renewal-plan.js';

/** Where a host's ACME certificate stands. */
export const CERT_STATES = ['valid', 'pending', 'renewing', 'failed'] as const;
export type CertState = (typeof CERT_STATES)[number];

/**
 * One host's ACME certificate as `DATA_DIR/certs/state.json`, `cutover certs --json` and the
 * manager's `status()` show it. Times are milliseconds since the epoch, as everywhere in cutover's JSON.
 *
 * - `valid`: a certificate is on disk; `nextAttempt` is when it will be renewed.
 * - `pending`: no certificate yet; the first one is being (or about to be) obtained.
 * - `renewing`: a certificate is on disk and served while a new one is obtained.
 * - `failed`: the last attempt failed (`lastError`); a certificate may still be on disk and
 *   served (`notAfter` says until when); `nextAttempt` is the retry, after a backoff, or null
 *   when the host can never get one over HTTP-01 (a wildcard, not a DNS name).
 */
export interface CertRecord {
  host: string;
  /** The certificate's issuer (its common name), or null before the first certificate. */
  issuer: string | null;
  notBefore: number | null;
  notAfter: number | null;
  state: CertState;
  lastError: string | null;
  nextAttempt: number | null;
  /** Failed attempts in a row: the backoff grows with them. */
  failures: number;
}

/** What the manager reads from a certificate it obtained (or found in the data dir). */
export interface CertificateFacts {
  issuer: string;
  notBefore: number;
  notAfter: number;
}

/** A host seen for the first time: its first certificate is due at once. */
export function pendingRecord(host: string, now: number): CertRecord {
  return { host, issuer: null, notBefore: null, notAfter: null, state: 'pending', lastError: null, nextAttempt: now, failures: 0 };
}

/** A host that cannot get a certificate over HTTP-01: never tried, with the reason shown by `cutover certs`. */
export function rejectedRecord(host: string, reason: string): CertRecord {
  return { host, issuer: null, notBefore: null, notAfter: null, state: 'failed', lastError: reason, nextAttempt: null, failures: 0 };
}

/** A certificate found in the data dir with no record (the state file was lost): valid, renewed on schedule. */
export function recordFromDisk(host: string, facts: CertificateFacts): CertRecord {
  return attemptSucceeded(pendingRecord(host, facts.notBefore), facts);
}

/** An attempt begins: `renewing` when a certificate is already on disk, `pending` otherwise. */
export function attemptStarted(record: CertRecord): CertRecord {
  return { ...record, state: record.notAfter === null ? 'pending' : 'renewing' };
}

/** A new certificate is on disk: valid until renewal time, the failure count starts over. */
export function attemptSucceeded(record: CertRecord, facts: CertificateFacts): CertRecord {
  return {
    ...record,
    ...facts,
    state: 'valid',
    lastError: null,
    nextAttempt: renewalTime(facts.notBefore, facts.notAfter),
    failures: 0,
  };
}

/**
 * The attempt failed: the old certificate (if any) stays, the next try waits a backoff that
 * doubles per failure, or until `retryAt` when the CA said to wait longer (a rate limit's Retry-After).
 */
export function attemptFailed(record: CertRecord, message: string, now: number, retryAt: number | null = null): CertRecord {
  const failures = record.failures + 1;
  return { ...record, state: 'failed', lastError: message, failures, nextAttempt: Math.max(now + retryDelayMs(failures), retryAt ?? 0) };
}

/** The certificate files of a `valid` host went missing: obtain one again now. */
export function certificateLost(record: CertRecord, now: number): CertRecord {
  return { ...record, issuer: null, notBefore: null, notAfter: null, state: 'pending', nextAttempt: now };
}
