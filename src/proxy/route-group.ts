import type { UpstreamTarget } from './upstream-target.js';

/** One revision group of a routing table: a revision with at least one endpoint. */
export interface RouteGroup {
  readonly revision: number;
  /** Weight > 0 for groups taking weighted traffic; 0 for groups reachable only by routes, previews or mirroring. */
  readonly weight: number;
  readonly endpoints: readonly UpstreamTarget[];
  /** Smooth weighted round robin state. */
  current: number;
  /** Where the next least-outstanding scan starts, so ties rotate. */
  next: number;
}

/**
 * The endpoint of the group with the fewest outstanding requests, ejected outliers left out
 * (unless every endpoint is out, which only a plan change can cause); ties rotate.
 */
export function pickLeastOutstanding(group: RouteGroup): UpstreamTarget {
  const { endpoints } = group;
  const count = endpoints.length;
  if (count === 1) return endpoints[0]!;
  const start = group.next;
  group.next = start + 1 === count ? 0 : start + 1;
  let best: UpstreamTarget | undefined;
  for (let i = 0; i < count; i++) {
    const candidate = endpoints[(start + i) % count]!;
    if (candidate.isEjected) continue;
    if (best === undefined || candidate.inflight < best.inflight) {
      best = candidate;
      if (best.inflight === 0) break;
    }
  }
  return best ?? endpoints[start]!;
}
