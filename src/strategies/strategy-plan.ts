import type { InstanceState } from '../model/rollout.js';
import type { HostPort, RouteMatchSpec } from '../model/app-spec.js';

/**
 * What a strategy wants for the traffic of one app. The controller turns it into a traffic
 * plan over the instances that are ready and not being stopped.
 */
export interface TrafficIntent {
  /**
   * Weighted share per revision, in plan order: the first owns the start of the sticky hash
   * range, so the canary comes first. Revisions not listed get no traffic at all. Null: every
   * ready instance of every revision gets an equal share (rolling).
   */
  weights: { revision: number; weight: number }[] | null;
  routes: { revision: number; match: RouteMatchSpec }[];
  previews: { listen: HostPort; revision: number }[];
  sticky: { cookie: string; ttlMs: number } | null;
  mirror: { revision: number; percent: number } | null;
}

/** One planner's answer: what to start and stop now, where traffic goes, and where the rollout stands. */
export interface StrategyPlan {
  starts: { revision: number; count: number }[];
  /** Instances to take out of traffic, drain and stop now. */
  stopIds: string[];
  traffic: TrafficIntent;
  /** The step the rollout is at after this pass: one past the input's when its step is done. */
  stepIndex: number;
  isComplete: boolean;
  /** One line for people: where the rollout stands. */
  step: string;
  /** Why the rollout waits for a person (`cutover promote`), or null. */
  gate: string | null;
  /** Waiting on purpose (a gate, a timed pause, hooks): the progress deadline does not run. */
  isWaiting: boolean;
  /**
   * The rollout stands at this hook point: the controller runs its hooks, and the plan holds
   * (no new traffic, no next step) until `HookProgress` says they passed. Null: no hook due.
   */
  hookPoint: PlannedHookPoint | null;
  /**
   * The rollout stands at an analysis of its own (a canary `analysis` step, `step@N`): the
   * controller runs it beside the loop and the plan holds until it passed. Absent: none.
   */
  analysisPoint?: string | null;
}

/** The hook points that hold a rollout; onSuccess and onFailure run after it ended. */
export type PlannedHookPoint = 'preDeploy' | 'preTraffic' | 'postTraffic';

/**
 * Where a rollout's hooks stand, as planners see them (the controller runs the hooks and keeps
 * their state). A point without hooks, or skipped, counts as passed.
 */
export interface HookProgress {
  /** preDeploy passed: new instances may start. */
  isPreDeployPassed: boolean;
  /** preTraffic passed: the new revision may take real traffic. */
  isTrafficAllowed: boolean;
  /** postTraffic passed for the traffic change of the current step. */
  isStepChecked: boolean;
}

export const HOOKS_PASSED: HookProgress = { isPreDeployPassed: true, isTrafficAllowed: true, isStepChecked: true };

export const EQUAL_SHARES: TrafficIntent = { weights: null, routes: [], previews: [], sticky: null, mirror: null };

/** What a planner needs to know about one live instance of an app. */
export interface ObservedInstance {
  id: string;
  revision: number;
  state: InstanceState;
  /** Monotonic ms when it became ready, or null while starting. */
  readyAtMs: number | null;
  /** The rollout that started it, when known (a restart tells its new instances from the old ones). */
  rolloutId?: number | null;
}

/** Ready before starting; among equals, the older one first (it has proven itself longer). */
export function byUsefulness(a: ObservedInstance, b: ObservedInstance): number {
  const rank = (i: ObservedInstance): number => (i.state === 'ready' ? 0 : 1);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  return (a.readyAtMs ?? Infinity) - (b.readyAtMs ?? Infinity);
}

/**
 * Keeps `desired` live instances of `revision`: says how many to start, and which surplus ones
 * to stop (the least useful first).
 */
export function scaleRevision(
  instances: readonly ObservedInstance[],
  revision: number,
  desired: number,
): { start: number; stopIds: string[]; ready: ObservedInstance[] } {
  const live = instances.filter((i) => i.revision === revision && (i.state === 'starting' || i.state === 'ready')).sort(byUsefulness);
  const kept = live.slice(0, desired);
  return {
    start: Math.max(0, desired - live.length),
    stopIds: live.slice(desired).map((i) => i.id),
    ready: kept.filter((i) => i.state === 'ready'),
  };
}
