import type { TrafficPlan } from '../../model/traffic-plan.js';
import { STICKY_BUCKETS } from './haproxy-layout.js';

/** HAProxy's largest server weight. */
export const MAX_SERVER_WEIGHT = 256;

/**
 * Per-endpoint HAProxy weights for a plan: a group's weight is shared by its endpoints, then
 * scaled so the heaviest server gets 256 (HAProxy's range is 0..256), which keeps rounding
 * errors small. Endpoints of weight-0 groups get 0 (they drain). Pure.
 *
 * @example serverWeights(plan) // Map { 'web-2-a' => 85, 'web-1-b' => 256, 'web-1-c' => 256, 'web-1-d' => 256 } for 10/90 over 1 and 3
 */
export function serverWeights(plan: TrafficPlan): Map<string, number> {
  const weights = new Map<string, number>();
  let heaviest = 0;
  for (const group of plan.groups) {
    if (group.weight > 0 && group.endpoints.length > 0) heaviest = Math.max(heaviest, group.weight / group.endpoints.length);
  }
  for (const group of plan.groups) {
    const share = group.weight > 0 && group.endpoints.length > 0 ? group.weight / group.endpoints.length : 0;
    for (const endpoint of group.endpoints) {
      weights.set(endpoint.id, share === 0 ? 0 : Math.max(1, Math.round((share / heaviest) * MAX_SERVER_WEIGHT)));
    }
  }
  return weights;
}

/**
 * The revision each sticky hash bucket (0..99) belongs to: groups own consecutive ranges in
 * plan order, as large as their weight, so the canary (listed first) keeps its buckets while
 * its weight grows. Empty when the plan is not sticky. Pure.
 */
export function stickyBuckets(plan: TrafficPlan): number[] {
  if (!plan.sticky) return [];
  const groups = plan.groups.filter((g) => g.weight > 0 && g.endpoints.length > 0);
  const total = groups.reduce((sum, g) => sum + g.weight, 0);
  if (total === 0) return [];
  const buckets: number[] = [];
  let group = 0;
  let end = groups[0]!.weight;
  for (let bucket = 0; bucket < STICKY_BUCKETS; bucket++) {
    const at = ((bucket + 0.5) / STICKY_BUCKETS) * total;
    while (at > end && group < groups.length - 1) end += groups[++group]!.weight;
    buckets.push(groups[group]!.revision);
  }
  return buckets;
}

/** Revisions some request must reach by name (route, preview, sticky bucket), in first-seen order; only those with endpoints. */
export function routedRevisions(plan: TrafficPlan): number[] {
  const hasEndpoints = new Set(plan.groups.filter((g) => g.endpoints.length > 0).map((g) => g.revision));
  const wanted = [...(plan.routes ?? []).map((r) => r.revision), ...(plan.previews ?? []).map((p) => p.revision), ...new Set(stickyBuckets(plan))];
  return [...new Set(wanted)].filter((revision) => hasEndpoints.has(revision));
}
