import type { MirrorRule } from '../model/traffic-plan.js';
import { MirrorCopy } from './mirror-copy.js';
import type { MirrorLimits } from './mirror-copy.js';
import { pickLeastOutstanding } from './route-group.js';
import type { RouteGroup } from './route-group.js';
import type { UpstreamTarget } from './upstream-target.js';

/**
 * The mirror rule of one routing table (`TrafficPlan.mirror`): which requests get copied to
 * the mirror revision's group. The choice is a counter, not a dice roll: every request served
 * by weight by another group adds `percent` credits, and each time 100 are reached one request
 * is copied, so 50 copies every other request and 10 every tenth.
 *
 * @example
 * const copy = mirror.take(target); // after picking `target` by weight
 * if (copy !== undefined) copy.send({ method, path, headers }, body);
 */
export class MirrorRoute {
  private credits = 0;

  constructor(
    readonly group: RouteGroup,
    private readonly percent: number,
    private readonly limits: MirrorLimits,
  ) {}

  /**
   * Counts one request sent by weight to `servedBy`; returns a copy to send when this one is
   * to be mirrored and the worker has room for another copy (none otherwise).
   */
  take(servedBy: UpstreamTarget): MirrorCopy | undefined {
    if (this.group.endpoints.includes(servedBy)) return undefined;
    this.credits += this.percent;
    if (this.credits < 100) return undefined;
    this.credits -= 100;
    if (!this.limits.hasRoom) return undefined;
    return new MirrorCopy(pickLeastOutstanding(this.group), this.limits);
  }
}

/** The mirror route of a plan, or undefined when it copies nothing (no rule, percent <= 0, no group with endpoints). */
export function createMirrorRoute(
  rule: MirrorRule | undefined,
  groupOf: (revision: number) => RouteGroup | undefined,
  limits: MirrorLimits,
): MirrorRoute | undefined {
  if (rule === undefined || !(rule.percent > 0) || limits.maxConcurrent === 0) return undefined;
  const group = groupOf(rule.revision);
  return group === undefined ? undefined : new MirrorRoute(group, Math.min(rule.percent, 100), limits);
}
