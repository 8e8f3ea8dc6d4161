import type { CertRecord } from './cert-record.js';

const DAY_MS = 24 * 60 * 60_000;
/** A certificate is renewed this long before it expires. */
export const RENEW_BEFORE_EXPIRY_MS = 30 * DAY_MS;
/** The manager never sleeps longer than this, so a clock jump is noticed within a day. */
export const MAX_WAKE_DELAY_MS = DAY_MS;
/** Nor wakes sooner than this: with a clock far from the CA's, a fresh certificate could look due at once; this bounds the loop. */
export const MIN_WAKE_DELAY_MS = 60_000;

/** Certificates that live longer than this are renewed RENEW_BEFORE_EXPIRY_MS before they expire. */
const SHORT_LIVED_MS = 2 * RENEW_BEFORE_EXPIRY_MS;

/**
 * When a certificate valid from `notBefore` to `notAfter` is renewed: 30 days before it
 * expires, as Let's Encrypt advises for its 90-day certificates. A short-lived certificate (60
 * days or less, like Let's Encrypt's 6-day ones) is renewed once two thirds of its life have
 * passed instead, so it is never renewed before it was issued.
 *
 * @example renewalTime(0, 90 * DAY_MS) // 60 days: 30 days before expiry
 * @example renewalTime(0, 6 * DAY_MS) // 4 days: two thirds of a 6-day certificate
 */
export function renewalTime(notBefore: number, notAfter: number): number {
  const lifetimeMs = notAfter - notBefore;
  if (lifetimeMs > SHORT_LIVED_MS) return notAfter - RENEW_BEFORE_EXPIRY_MS;
  return notBefore + Math.floor((lifetimeMs * 2) / 3);
}

/** The hosts whose attempt is due at `now`: new hosts, renewals, and retries whose backoff has passed. */
export function dueHosts(records: readonly CertRecord[], now: number): string[] {
  return records.filter((r) => r.nextAttempt !== null && r.nextAttempt <= now).map((r) => r.host);
}

/** How long to sleep before the next due attempt, within [MIN_WAKE_DELAY_MS, MAX_WAKE_DELAY_MS]; null when no host will ever be due. */
export function nextWakeDelayMs(records: readonly CertRecord[], now: number): number | null {
  const times = records.map((r) => r.nextAttempt).filter((t): t is number => t !== null);
  if (times.length === 0) return null;
  return Math.min(MAX_WAKE_DELAY_MS, Math.max(MIN_WAKE_DELAY_MS, Math.min(...times) - now));
}
