import type { RollingSpec } from '../model/spec.js';
import { byUsefulness, type ObservedInstance } from './strategy-plan.js';
import { resolveCountOrPercent } from './count-or-percent.js';

export type { ObservedInstance } from './strategy-plan.js';

export interface RollingInput {
  replicas: number;
  rolling: RollingSpec;
  /** The revision every instance should end up running. */
  targetRevision: number;
  /** Live instances (starting, ready, draining); stopped and failed ones are left out. */
  instances: readonly ObservedInstance[];
  nowMs: number;
  /**
   * False while preTraffic hooks have not passed: instances of the target revision take no
   * traffic and so count as unavailable (no old instance leaves for them). Default true.
   */
  isTrafficAllowed?: boolean;
  /** False while postTraffic hooks have not passed once the target serves alone. Default true. */
  isStepChecked?: boolean;
  /**
   * Rolling `analysis` after each batch: how many new instances the passed batch analyses
   * vouch for (0 before the first batch passed). Absent or null: no analysis between batches.
   */
  batchAnalysis?: { passedCount: number } | null;
}

export interface RollingPlan {
  /** How many new instances of the target revision to start now. */
  startCount: number;
  /** Instances to take out of traffic, drain and stop now. */
  stopIds: string[];
  /** Every instance runs the target revision, enough of them are available, nothing else is left. */
  isComplete: boolean;
  /** One line for people: where the rollout stands. */
  step: string;
  /** Instances currently counted as available (ready, and ready long enough when of the target). */
  availableCount: number;
  minAvailable: number;
  /** preTraffic: every new instance started so far is ready, held out of traffic; postTraffic: the target serves alone. */
  hookPoint: 'preTraffic' | 'postTraffic' | null;
  /**
   * With `batchAnalysis`: a batch of `analysisBatch` new instances serves beside the old ones and
   * waits for its analysis (`batch@<analysisBatch>`); the last batch is the postTraffic point. Null otherwise.
   */
  analysisBatch: number | null;
}

/**
 * How many new instances make one batch of a rolling rollout with analysis: as many as may be
 * replaced at once (maxSurge + maxUnavailable), at least one, at most all.
 */
export function rollingBatchSize(replicas: number, rolling: RollingSpec): number {
  const maxSurge = resolveCountOrPercent(rolling.maxSurge, replicas, 'up');
  const maxUnavailable = resolveCountOrPercent(rolling.maxUnavailable, replicas, 'down');
  return Math.min(Math.max(1, replicas), Math.max(1, maxSurge + maxUnavailable));
}

/**
 * Rolling update arithmetic, as in Kubernetes: at most `replicas + maxSurge` instances exist
 * (draining ones aside, they are on their way out), and at least `replicas - maxUnavailable`
 * stay available. A pure function: the controller observes, calls it, and applies the result.
 *
 * @example
 * planRolling({ replicas: 3, rolling, targetRevision: 2, instances, nowMs })
 * // → { startCount: 1, stopIds: [], isComplete: false, step: '0/3 of revision 2 ready', ... }
 */
export function planRolling(input: RollingInput): RollingPlan {
  const { replicas, rolling, targetRevision, nowMs } = input;
  const isTrafficAllowed = input.isTrafficAllowed ?? true;
  let maxSurge = resolveCountOrPercent(rolling.maxSurge, replicas, 'up');
  const maxUnavailable = resolveCountOrPercent(rolling.maxUnavailable, replicas, 'down');
  // Both zero would deadlock; the config rejects it, and this keeps the planner total.
  if (maxSurge === 0 && maxUnavailable === 0) maxSurge = 1;
  const minAvailable = Math.max(0, replicas - maxUnavailable);
  // With analysis between batches, the new revision grows one batch past what analyses vouched for.
  const batch = input.batchAnalysis ? Math.min(replicas, input.batchAnalysis.passedCount + rollingBatchSize(replicas, rolling)) : replicas;

  const live = input.instances.filter((i) => i.state === 'starting' || i.state === 'ready');
  const isAvailable = (i: ObservedInstance): boolean =>
    i.state === 'ready' && (i.revision !== targetRevision || (isTrafficAllowed && i.readyAtMs !== null && nowMs - i.readyAtMs >= rolling.minReadyMs));

  const current = live.filter((i) => i.revision === targetRevision);
  const old = live.filter((i) => i.revision !== targetRevision);
  let availableCount = live.filter(isAvailable).length;

  const stopIds: string[] = [];
  const stop = (i: ObservedInstance): void => {
    stopIds.push(i.id);
    if (isAvailable(i)) availableCount -= 1;
  };

  // Surplus of the target revision (replicas lowered, or a replacement raced): drop the least useful first.
  const currentByUsefulness = [...current].sort(byUsefulness);
  for (const extra of currentByUsefulness.slice(replicas)) stop(extra);
  const keptCurrent = currentByUsefulness.slice(0, replicas);

  // Old instances that are not available cost nothing to remove; available ones only while enough
  // stay, and (between batches) while the old ones still fill what the current batch does not.
  const oldByUsefulness = [...old].sort(byUsefulness).reverse();
  let keptOld = old.length;
  for (const instance of oldByUsefulness) {
    if (!isAvailable(instance)) stop(instance);
    else if (availableCount - 1 >= minAvailable && keptOld - 1 >= replicas - batch) stop(instance);
    else continue;
    keptOld -= 1;
  }

  const remainingOld = old.length - old.filter((i) => stopIds.includes(i.id)).length;
  const total = keptCurrent.length + remainingOld;
  const startCount = Math.max(0, Math.min(batch - keptCurrent.length, replicas + maxSurge - total));

  const readyCurrent = keptCurrent.filter(isAvailable).length;
  if (!isTrafficAllowed) {
    const held = keptCurrent.filter((i) => i.state === 'ready').length;
    const isAllHeldReady = held > 0 && held === keptCurrent.length && startCount === 0;
    const step = isAllHeldReady
      ? `${held} new of revision ${targetRevision} ready, out of traffic; waiting for preTraffic hooks`
      : `${held}/${keptCurrent.length + startCount} new of revision ${targetRevision} ready (out of traffic until preTraffic hooks pass), ${remainingOld} old left`;
    return { startCount, stopIds, isComplete: false, step, availableCount, minAvailable, hookPoint: isAllHeldReady ? 'preTraffic' : null, analysisBatch: null };
  }
  const isDone = readyCurrent === replicas && remainingOld === 0;
  if (isDone && input.isStepChecked === false) {
    return {
      startCount,
      stopIds,
      isComplete: false,
      step: `${replicas}/${replicas} of revision ${targetRevision} serve; waiting for postTraffic hooks`,
      availableCount,
      minAvailable,
      hookPoint: 'postTraffic',
      analysisBatch: null,
    };
  }
  const isBatchServing =
    batch < replicas && stopIds.length === 0 && startCount === 0 && readyCurrent === batch && keptCurrent.length === batch && remainingOld <= replicas - batch;
  if (isBatchServing) {
    return {
      startCount,
      stopIds,
      isComplete: false,
      step: `${batch}/${replicas} of revision ${targetRevision} serve beside ${remainingOld} old; analysing this batch`,
      availableCount,
      minAvailable,
      hookPoint: null,
      analysisBatch: batch,
    };
  }
  const step = isDone
    ? `${replicas}/${replicas} of revision ${targetRevision} ready`
    : `${readyCurrent}/${replicas} of revision ${targetRevision} ready, ${remainingOld} old left`;
  return { startCount, stopIds, isComplete: isDone, step, availableCount, minAvailable, hookPoint: null, analysisBatch: null };
}
