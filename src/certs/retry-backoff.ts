/** The wait after the first failed attempt for a host. */
export const FIRST_RETRY_DELAY_MS = 5 * 60_000;
/** The longest wait between attempts: a host keeps being tried at least this often. */
export const MAX_RETRY_DELAY_MS = 6 * 60 * 60_000;

/**
 * How long to wait after `failures` failed attempts in a row (1 = the first failure): 5 minutes,
 * doubling each time, never over 6 hours. Let's Encrypt allows only a few failed validations per
 * host and hour, so a host whose DNS or port 80 is wrong must not be retried in a tight loop,
 * yet a fixed one should not wait a day.
 *
 * @example retryDelayMs(1) // 300_000 (5 minutes)
 * @example retryDelayMs(3) // 1_200_000 (20 minutes)
 */
export function retryDelayMs(failures: number): number {
  if (failures < 1) return 0;
  // 2^(n-1) grows past the cap long before it loses precision; stop doubling there.
  const exponent = Math.min(failures - 1, 30);
  return Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** exponent);
}
