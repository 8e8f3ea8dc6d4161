import type { TrafficPlan } from '../model/traffic-plan.js';
import type { UpstreamRegistry } from './upstream-registry.js';
import type { UpstreamTarget } from './upstream-target.js';

/** A revision group that can receive traffic (weight > 0, at least one endpoint). */
interface RouteGroup {
  readonly revision: number;
  readonly weight: number;
  readonly endpoints: readonly UpstreamTarget[];
  /** Smooth weighted round robin state. */
  current: number;
  /** Where the next least-outstanding scan starts, so ties rotate. */
  next: number;
}

/**
 * The routing table of one app, built from one traffic plan and never changed afterwards
 * except for the balancing counters. A plan change builds a new table and swaps the
 * reference, so a request sees either the old plan or the new one, never a mix.
 *
 * @example
 * const table = createRoutingTable(plan, registry);
 * const target = table.pick(); // undefined when no group can take traffic
 */
export class RoutingTable {
  /** True when at least one group has weight > 0 and an endpoint. */
  readonly isRoutable: boolean;
  private readonly totalWeight: number;
  private isReleased = false;

  constructor(
    readonly app: string,
    private readonly groups: readonly RouteGroup[],
    /** Every target the table holds a reference on, weight-0 groups included. */
    private readonly targets: readonly UpstreamTarget[],
    private readonly registry: UpstreamRegistry,
  ) {
    this.isRoutable = groups.length > 0;
    let total = 0;
    for (const group of groups) total += group.weight;
    this.totalWeight = total;
  }

  /**
   * Chooses a group by smooth weighted round robin (deterministic: weights 1:3 give exactly
   * 1 of 4), then the endpoint with the fewest outstanding requests in it.
   */
  pick(): UpstreamTarget | undefined {
    const { groups } = this;
    if (groups.length === 1) return leastOutstanding(groups[0]!);
    let best: RouteGroup | undefined;
    for (const group of groups) {
      group.current += group.weight;
      if (best === undefined || group.current > best.current) best = group;
    }
    if (best === undefined) return undefined;
    best.current -= this.totalWeight;
    return leastOutstanding(best);
  }

  /**
   * Chooses an endpoint for another try: an endpoint not tried yet, from the group of the
   * last one tried if possible, else from any group with weight > 0; the least busy one.
   * With `mayRepeat`, falls back to a normal pick when every endpoint was tried.
   */
  pickRetry(tried: readonly UpstreamTarget[], mayRepeat: boolean): UpstreamTarget | undefined {
    const last = tried[tried.length - 1];
    let sameGroup: UpstreamTarget | undefined;
    let anyGroup: UpstreamTarget | undefined;
    for (const group of this.groups) {
      const isSameGroup = last !== undefined && group.endpoints.includes(last);
      for (const target of group.endpoints) {
        if (tried.includes(target)) continue;
        if (isSameGroup && (sameGroup === undefined || target.inflight < sameGroup.inflight)) sameGroup = target;
        if (anyGroup === undefined || target.inflight < anyGroup.inflight) anyGroup = target;
      }
    }
    return sameGroup ?? anyGroup ?? (mayRepeat ? this.pick() : undefined);
  }

  /** Drops this table's references on its targets (once), letting unused pools close. */
  release(): void {
    if (this.isReleased) return;
    this.isReleased = true;
    for (const target of this.targets) this.registry.release(target);
  }
}

/** Builds a table for a plan, taking a reference on every endpoint's target. */
export function createRoutingTable(plan: TrafficPlan, registry: UpstreamRegistry): RoutingTable {
  const groups: RouteGroup[] = [];
  const targets: UpstreamTarget[] = [];
  for (const group of plan.groups) {
    const endpoints = group.endpoints.map((endpoint) => registry.acquire(endpoint));
    targets.push(...endpoints);
    const weight = Number.isFinite(group.weight) && group.weight > 0 ? group.weight : 0;
    if (weight > 0 && endpoints.length > 0) {
      groups.push({ revision: group.revision, weight, endpoints, current: 0, next: 0 });
    }
  }
  return new RoutingTable(plan.app, groups, targets, registry);
}

function leastOutstanding(group: RouteGroup): UpstreamTarget {
  const { endpoints } = group;
  const count = endpoints.length;
  if (count === 1) return endpoints[0]!;
  const start = group.next;
  group.next = start + 1 === count ? 0 : start + 1;
  let best = endpoints[start]!;
  for (let i = 1; i < count && best.inflight > 0; i++) {
    const candidate = endpoints[(start + i) % count]!;
    if (candidate.inflight < best.inflight) best = candidate;
  }
  return best;
}
