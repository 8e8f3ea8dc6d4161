/** A release on disk, as the prune planner sees it. */
export interface KeptRelease {
  revision: number;
  createdAt: number;
}

export interface PruneInput {
  releases: readonly KeptRelease[];
  /** Revisions in use: stable, warm, both ends of a running rollout, any live instance's. */
  inUse: ReadonlySet<number>;
  /** How many releases to keep besides those in use. */
  keep: number;
}

/**
 * Which releases to remove: all but the `keep` newest of those not in use. A release in use is
 * never removed, and it does not count against `keep`. Newest means the highest revision (ties
 * are impossible: one release per revision).
 *
 * @example planPrune({ releases: [r1, r2, r3, r4], inUse: new Set([1]), keep: 1 }) // [2, 3]
 */
export function planPrune(input: PruneInput): number[] {
  const idle = input.releases.filter((release) => !input.inUse.has(release.revision)).sort((a, b) => b.revision - a.revision);
  return idle
    .slice(Math.max(0, input.keep))
    .map((release) => release.revision)
    .sort((a, b) => a - b);
}
