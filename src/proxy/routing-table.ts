import type { TrafficPlan } from '../model/traffic-plan.js';
import { isConnectionReset } from './upstream-failure.js';
import { fnv1a32 } from './fnv1a.js';
import type { MirrorLimits } from './mirror-copy.js';
import { createMirrorRoute } from './mirror-route.js';
import type { MirrorRoute } from './mirror-route.js';
import { pickLeastOutstanding } from './route-group.js';
import type { RouteGroup } from './route-group.js';
import { createRouteMatcher } from './route-matcher.js';
import type { RouteMatcher } from './route-matcher.js';
import { StickyCookie } from './sticky-cookie.js';
import type { UpstreamRegistry } from './upstream-registry.js';
import type { UpstreamTarget } from './upstream-target.js';
import type { EndpointMeter } from './request-meter.js';
import { weightedRangeIndex } from './weighted-range.js';
import { judgeOutcome } from './outlier-ejection.js';
import type { OutlierPolicy, TryOutcome } from './outlier-ejection.js';

/** What a routing table is built from besides its weighted groups. */
interface RoutingTableParts {
  /** Every group with an endpoint by revision, weight 0 included (routes, previews, mirroring). */
  readonly groupsByRevision: ReadonlyMap<number, RouteGroup>;
  readonly routes: RouteMatcher | undefined;
  readonly sticky: StickyCookie | undefined;
  readonly mirror: MirrorRoute | undefined;
  readonly outlierDetection: OutlierPolicy | undefined;
}

/**
 * The routing table of one app, built from one traffic plan and never changed afterwards
 * except for the balancing and mirroring counters. A plan change builds a new table and swaps
 * the reference, so a request sees either the old plan or the new one, never a mix.
 *
 * A request is routed in this order: the revision of the preview listener it came on
 * (`pickInRevision`), else the first matching route (`routes.match`), else by weight
 * (`pickSticky` when `sticky` is set, `pick` otherwise) among the groups with weight > 0.
 * Each optional part is `undefined` when the plan does not use it, so it costs nothing.
 *
 * @example
 * const table = createRoutingTable(plan, registry, mirrorLimits);
 * const target = table.pick(); // undefined when no group can take weighted traffic
 */
export class RoutingTable {
  /** True when at least one group takes weighted traffic or a route can match. */
  readonly isRoutable: boolean;
  /** The plan's routes naming a revision with endpoints; undefined when there are none. */
  readonly routes: RouteMatcher | undefined;
  /** Set when the plan asks for sticky assignment: weighted picks then go through `pickSticky`. */
  readonly sticky: StickyCookie | undefined;
  /** Set when the plan mirrors a share of the weighted traffic to a revision with endpoints. */
  readonly mirror: MirrorRoute | undefined;
  private readonly groupsByRevision: ReadonlyMap<number, RouteGroup>;
  /** Undefined when the plan turns outlier ejection off. */
  private readonly outlierDetection: OutlierPolicy | undefined;
  private readonly totalWeight: number;
  private isReleased = false;

  /** Counts a request answered 503 because the table had no endpoint for it. */
  recordUnrouted(): void {
    this.registry.meter.recordUnrouted(this.app);
  }

  constructor(
    readonly app: string,
    /** The groups taking weighted traffic (weight > 0, at least one endpoint), in plan order. */
    private readonly groups: readonly RouteGroup[],
    parts: RoutingTableParts,
    /** Every target the table holds a reference on, weight-0 groups included. */
    private readonly targets: readonly UpstreamTarget[],
    private readonly registry: UpstreamRegistry,
    /** Per target, the meter of this plan's generation. */
    private readonly meters: ReadonlyMap<UpstreamTarget, EndpointMeter> = new Map(),
  ) {
    this.groupsByRevision = parts.groupsByRevision;
    this.routes = parts.routes;
    this.sticky = parts.sticky;
    this.mirror = parts.mirror;
    const outliers = parts.outlierDetection;
    this.outlierDetection = outliers !== undefined && outliers.consecutiveFailures > 0 ? outliers : undefined;
    this.isRoutable = groups.length > 0 || parts.routes !== undefined;
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
    if (groups.length === 1) return pickLeastOutstanding(groups[0]!);
    let best: RouteGroup | undefined;
    for (const group of groups) {
      group.current += group.weight;
      if (best === undefined || group.current > best.current) best = group;
    }
    if (best === undefined) return undefined;
    best.current -= this.totalWeight;
    return pickLeastOutstanding(best);
  }

  /**
   * Chooses a group by the FNV-1a hash of a sticky value mapped into [0, total weight), where
   * groups own consecutive ranges in plan order; then the least busy endpoint in it. The same
   * value always lands on the same group while the weights stay; a value in the first group's
   * range stays there while that group's weight grows.
   */
  pickSticky(value: string): UpstreamTarget | undefined {
    const { groups } = this;
    if (groups.length <= 1) return groups.length === 1 ? pickLeastOutstanding(groups[0]!) : undefined;
    return pickLeastOutstanding(groups[weightedRangeIndex(fnv1a32(value), groups, this.totalWeight)]!);
  }

  /** The least busy endpoint of a revision's group whatever its weight; undefined when it has none. */
  pickInRevision(revision: number): UpstreamTarget | undefined {
    const group = this.groupsByRevision.get(revision);
    return group === undefined ? undefined : pickLeastOutstanding(group);
  }

  /**
   * Chooses an endpoint for another try: an endpoint not tried yet, from the group of the
   * last one tried if possible, else from any group with weight > 0; the least busy one.
   * With `mayRepeat`, falls back to a normal pick when every endpoint was tried. A request
   * pinned to a revision (routed, or on a preview listener) stays inside that revision's group.
   */
  pickRetry(tried: readonly UpstreamTarget[], mayRepeat: boolean, pinnedRevision?: number): UpstreamTarget | undefined {
    if (pinnedRevision !== undefined) {
      const group = this.groupsByRevision.get(pinnedRevision);
      if (group === undefined) return undefined;
      return leastBusyUntried(group.endpoints, tried) ?? (mayRepeat ? pickLeastOutstanding(group) : undefined);
    }
    const last = tried[tried.length - 1];
    let sameGroup: UpstreamTarget | undefined;
    let anyGroup: UpstreamTarget | undefined;
    let ejected: UpstreamTarget | undefined;
    for (const group of this.groups) {
      const isSameGroup = last !== undefined && group.endpoints.includes(last);
      for (const target of group.endpoints) {
        if (tried.includes(target)) continue;
        if (target.isEjected) {
          ejected ??= target;
          continue;
        }
        if (isSameGroup && (sameGroup === undefined || target.inflight < sameGroup.inflight)) sameGroup = target;
        if (anyGroup === undefined || target.inflight < anyGroup.inflight) anyGroup = target;
      }
    }
    return sameGroup ?? anyGroup ?? (mayRepeat ? this.pick() : ejected);
  }

  /**
   * Counts the outcome of one try at `target` for passive outlier ejection (see
   * `outlier-ejection.ts`): an endpoint failing too often in a row leaves its group's picks for
   * the plan's `ejectForMs`, within the group's cap. The state lives on the target, so it
   * survives plan swaps. Nothing to do on the common path (a success after a success).
   */
  recordOutcome(target: UpstreamTarget, outcome: TryOutcome): void {
    const policy = this.outlierDetection;
    if (policy === undefined || outcome === 'ignored' || (outcome === 'success' && target.failuresInRow === 0)) return;
    const group = this.groupsByRevision.get(target.revision);
    if (group === undefined || !group.endpoints.includes(target)) {
      // The endpoint left the plan: it gets no new traffic anyway.
      target.failuresInRow = 0;
      return;
    }
    let ejectedInGroup = 0;
    for (const other of group.endpoints) if (other.isEjected) ejectedInGroup++;
    const judgement = judgeOutcome(policy, outcome, {
      failuresInRow: target.failuresInRow,
      isEjected: target.isEjected,
      groupSize: group.endpoints.length,
      ejectedInGroup,
    });
    target.failuresInRow = judgement.failuresInRow;
    if (judgement.shouldEject) eject(target, policy.ejectForMs);
  }

  /** Counts `failed` as tried and picks the endpoint for the next try (see `pickRetry`); undefined when none is left. */
  pickAfterFailure(tried: UpstreamTarget[], failed: UpstreamTarget, error: Error, pinnedRevision: number | undefined): UpstreamTarget | undefined {
    tried.push(failed);
    return this.pickRetry(tried, isConnectionReset(error), pinnedRevision);
  }

  /**
   * Makes its targets count under this table's plan generation; called when the table is swapped
   * in, so requests are counted under the generation of the plan that routed them (a request in
   * flight at the swap counts under the new one; its revision is the same either way).
   */
  countUnderItsPlan(): void {
    for (const [target, meter] of this.meters) target.meter = meter;
  }

  /** Drops this table's references on its targets (once), letting unused pools close. */
  release(): void {
    if (this.isReleased) return;
    this.isReleased = true;
    for (const target of this.targets) this.registry.release(target);
  }
}

/**
 * Builds a table for a plan, taking a reference on every endpoint's target. Mirror copies of
 * every table of a worker share `mirrorLimits`. Throws PROXY_INVALID_PLAN (before taking any
 * reference) when the sticky cookie cannot be used.
 */
export function createRoutingTable(plan: TrafficPlan, registry: UpstreamRegistry, mirrorLimits: MirrorLimits): RoutingTable {
  const sticky = plan.sticky === undefined ? undefined : new StickyCookie(plan.sticky);
  const groups: RouteGroup[] = [];
  const groupsByRevision = new Map<number, RouteGroup>();
  const targets: UpstreamTarget[] = [];
  const meters = new Map<UpstreamTarget, EndpointMeter>();
  for (const group of plan.groups) {
    const endpoints = group.endpoints.map((endpoint) => registry.acquire(endpoint, plan.app, group.revision, plan.longLived, plan.generation));
    targets.push(...endpoints);
    for (const target of endpoints) meters.set(target, registry.meter.meterOf(plan.app, group.revision, target.id, plan.generation));
    if (endpoints.length === 0) continue;
    const weight = Number.isFinite(group.weight) && group.weight > 0 ? group.weight : 0;
    const routeGroup: RouteGroup = { revision: group.revision, weight, endpoints, current: 0, next: 0 };
    if (!groupsByRevision.has(group.revision)) groupsByRevision.set(group.revision, routeGroup);
    if (weight > 0) groups.push(routeGroup);
  }
  const parts: RoutingTableParts = {
    groupsByRevision,
    routes: createRouteMatcher(plan.routes, (revision) => groupsByRevision.has(revision)),
    sticky,
    mirror: createMirrorRoute(plan.mirror, (revision) => groupsByRevision.get(revision), mirrorLimits),
    outlierDetection: plan.outlierDetection,
  };
  return new RoutingTable(plan.app, groups, parts, targets, registry, meters);
}

/** The least busy endpoint not tried yet, ejected outliers only when nothing else is left. */
function leastBusyUntried(endpoints: readonly UpstreamTarget[], tried: readonly UpstreamTarget[]): UpstreamTarget | undefined {
  let best: UpstreamTarget | undefined;
  let ejected: UpstreamTarget | undefined;
  for (const target of endpoints) {
    if (tried.includes(target)) continue;
    if (target.isEjected) ejected ??= target;
    else if (best === undefined || target.inflight < best.inflight) best = target;
  }
  return best ?? ejected;
}

/** Takes `target` out of its group's picks for `ejectForMs`; it comes back with a clean count. */
function eject(target: UpstreamTarget, ejectForMs: number): void {
  target.isEjected = true;
  target.meter.recordEjection();
  clearTimeout(target.ejectionTimer);
  target.ejectionTimer = setTimeout(() => {
    target.isEjected = false;
    target.failuresInRow = 0;
    target.ejectionTimer = undefined;
  }, ejectForMs);
  target.ejectionTimer.unref();
}
