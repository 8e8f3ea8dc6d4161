/**
 * A duration for people, in event messages: `850ms`, `2.5s`, `42s`, `1.5m`.
 *
 * @example formatMs(2_500) // '2.5s'
 */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  return `${(ms / 60_000).toFixed(1)}m`;
}
