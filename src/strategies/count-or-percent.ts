import type { CountOrPercent } from '../model/app-spec.js';

/**
 * Turns `2` or `"25%"` into an instance count for `replicas` instances. Percentages round up
 * for surge and down for unavailability, as Kubernetes does, so a small app still moves.
 */
export function resolveCountOrPercent(value: CountOrPercent, replicas: number, rounding: 'up' | 'down'): number {
  if (typeof value === 'number') return value;
  const share = (Number(value.slice(0, -1)) / 100) * replicas;
  return rounding === 'up' ? Math.ceil(share) : Math.floor(share);
}
