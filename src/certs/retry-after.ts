/** A CA's Retry-After beyond this is taken as this: a host is tried at least once a week. */
export const MAX_RETRY_AFTER_MS = 7 * 24 * 60 * 60_000;

/**
 * When a CA that answered 429 or 503 with `Retry-After: header` may be asked again, in ms since
 * the epoch; null without a usable header. The header is seconds or an HTTP date (RFC 9110
 * §10.2.3); a time in the past is no wait, and a wait is never longer than MAX_RETRY_AFTER_MS.
 * Pure.
 *
 * @example retryAfterTime('3600', 0) // 3_600_000
 * @example retryAfterTime('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:00:00Z')) - Date.parse('2015-10-21T07:00:00Z') // 1_680_000
 */
export function retryAfterTime(header: string | undefined, now: number): number | null {
  if (header === undefined) return null;
  const text = header.trim();
  const at = /^\d{1,10}$/.test(text) ? now + Number(text) * 1000 : Date.parse(text);
  if (Number.isNaN(at) || at <= now) return null;
  return Math.min(at, now + MAX_RETRY_AFTER_MS);
}
