/**
 * `2026-12-06T23:40:01.250Z` for `ms` (UTC), as `Date.prototype.toISOString` writes it. Written
 * from the UTC fields because V8's `toISOString` touches ICU's data on its first call, about
 * 0.6 MB of every daemon process that stamps its log lines with it (issue 25: the daemon's
 * memory). For the years 0-9999.
 */
export function isoTime(ms: number = Date.now()): string {
  const date = new Date(ms);
  return (
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}` +
    `T${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}.${pad(date.getUTCMilliseconds(), 3)}Z`
  );
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
