import type { ServingInstance } from '../model/traffic-plan.js';
import type { RolloutRecord } from '../model/records.js';
import { EQUAL_SHARES, type ObservedInstance, type StrategyPlan, type TrafficIntent } from '../strategies/strategy-plan.js';

/**
 * `cutover deploy --restart` rolls an app's stable revision onto new processes through its own
 * strategy. The planners move traffic between two revisions, so during a restart the instances
 * this rollout did not start are shown to them as this pseudo-revision (real ones count from 1),
 * and their answer is mapped back onto the one real revision.
 */
export const RESTART_OLD_REVISION = 0;

/** A forward rollout from a revision to itself: new processes, same revision. */
export function isRestart(rollout: RolloutRecord | null): boolean {
  return rollout !== null && rollout.direction === 'forward' && rollout.fromRevision === rollout.toRevision;
}

/** The instances as the planner sees them: those started before this rollout become the pseudo-revision. */
export function restartView(instances: readonly ObservedInstance[], rolloutId: number): ObservedInstance[] {
  return instances.map((i) => (i.rolloutId === rolloutId ? i : { ...i, revision: RESTART_OLD_REVISION }));
}

/**
 * The planner's answer for the real fleet: the old instances are never started again (a lost one
 * is simply not replaced), and once the plan is done they go too, so the rollout ends only when
 * every old process has been replaced (blue-green would otherwise keep them warm, and the steady
 * state would keep the older instances and stop the new ones).
 */
export function restartPlan(plan: StrategyPlan, view: readonly ObservedInstance[]): StrategyPlan {
  const words = { step: inWords(plan.step), gate: plan.gate === null ? null : inWords(plan.gate) };
  const starts = plan.starts.filter((s) => s.revision !== RESTART_OLD_REVISION);
  if (!plan.isComplete) return { ...plan, ...words, starts };
  const oldIds = view.filter((i) => i.revision === RESTART_OLD_REVISION && !plan.stopIds.includes(i.id)).map((i) => i.id);
  return { ...plan, ...words, starts, stopIds: [...plan.stopIds, ...oldIds], isComplete: oldIds.length === 0 };
}

/** The planners' prose names the pseudo-revision; people read "the old processes". */
function inWords(text: string): string {
  return text.replace(/\(revision 0\)/g, '(old processes)').replace(/\brevision 0\b/g, 'the old processes');
}

/**
 * The traffic of a restart for the real fleet: the planner weighs old against new, but both run
 * one revision, so the instances whose side has a weight serve together as that revision's group,
 * each with an equal share; a side held at weight 0 (green before the switch) takes no traffic.
 * Routes and previews name the revision; mirroring a revision onto itself is dropped.
 */
export function restartTraffic(
  intent: TrafficIntent,
  serving: readonly ServingInstance[],
  oldIds: ReadonlySet<string>,
  revision: number,
): { intent: TrafficIntent; serving: ServingInstance[] } {
  const sideOf = (i: ServingInstance): number => (oldIds.has(i.id) ? RESTART_OLD_REVISION : i.revision);
  const weighted = intent.weights === null ? null : new Set(intent.weights.filter((w) => w.weight > 0).map((w) => w.revision));
  const kept = serving.filter((i) => weighted === null || weighted.has(sideOf(i))).map((i) => ({ ...i, revision }));
  const routes = intent.routes.map((r) => ({ revision, match: r.match }));
  const previews = intent.previews.map((p) => ({ listen: p.listen, revision }));
  return { intent: { ...EQUAL_SHARES, routes, previews }, serving: kept };
}
