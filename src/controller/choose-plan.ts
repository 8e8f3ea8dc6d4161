import type { AppSpec, StrategySpec } from '../model/spec.js';
import type { StrategyName } from '../model/rollout.js';
import { resolveBlueGreen, resolveCanary } from '../spec/resolve-config.js';
import { planBlueGreen } from '../strategies/blue-green.js';
import { planCanary } from '../strategies/canary.js';
import { planRolling } from '../strategies/rolling.js';
import { EQUAL_SHARES, HOOKS_PASSED, type HookProgress, type ObservedInstance, type StrategyPlan, type TrafficIntent } from '../strategies/strategy-plan.js';
import type { RolloutRecord } from '../store/store.js';

export interface PlanInput {
  app: string;
  /** The app's active rollout, or null in the steady state. */
  rollout: RolloutRecord | null;
  stableRevision: number | null;
  /** Steady state only: a revision kept running out of traffic (blue after a switch, an aborted canary). */
  warmRevision: number | null;
  specOf: (revision: number) => AppSpec;
  /** Live instances (starting, ready); draining ones are left out. */
  instances: readonly ObservedInstance[];
  /** Monotonic ms when the rollout's current step began. */
  stepStartedAtMs: number;
  nowMs: number;
  /** Where the active rollout's hooks stand; default: none pending. Going back runs no hooks. */
  hooks?: HookProgress;
  /** The analysis of the current canary `analysis` step passed; default: false. */
  isStepAnalysisPassed?: boolean;
  /**
   * A forward rolling rollout with `analysis`: how many new instances passed batch analyses so
   * far (its runs at `batch@N`). Absent or null: no analysis between batches.
   */
  batchAnalysis?: { passedCount: number } | null;
}

export interface PlanChoice {
  /** The revision whose spec is the app's now, or null when nothing should run. */
  target: number | null;
  plan: StrategyPlan;
}

const NOTHING: StrategyPlan = {
  starts: [],
  stopIds: [],
  traffic: EQUAL_SHARES,
  stepIndex: 0,
  isComplete: true,
  step: 'nothing runs',
  gate: null,
  isWaiting: false,
  hookPoint: null,
};

/**
 * Picks the planner for where an app stands and runs it. Without a rollout, the stable
 * revision is kept at size by rolling arithmetic (a warm revision left aside). Going back, or a
 * first deploy (nothing to keep beside), is rolling too: it converges fastest. Otherwise the
 * rollout's own strategy decides. Pure: the controller supplies the observations.
 *
 * Until a forward rollout's preDeploy hooks passed, the app stays as it is (the stable revision
 * at size) and the plan waits for them; nothing of the new revision starts.
 */
export function choosePlan(input: PlanInput): PlanChoice {
  const { rollout, instances, nowMs } = input;
  const hooks = rollout?.direction === 'forward' ? (input.hooks ?? HOOKS_PASSED) : HOOKS_PASSED;
  if (rollout && !hooks.isPreDeployPassed) {
    const steady = choosePlan({ ...input, rollout: null });
    return {
      target: steady.target,
      plan: {
        ...steady.plan,
        stepIndex: rollout.stepIndex,
        isComplete: false,
        step: `waiting for preDeploy hooks; revision ${rollout.toRevision} starts once they pass`,
        isWaiting: true,
        hookPoint: 'preDeploy',
      },
    };
  }
  if (!rollout) {
    const target = input.stableRevision;
    if (target === null) return { target, plan: { ...NOTHING, stopIds: instances.map((i) => i.id) } };
    const tracked = instances.filter((i) => i.revision !== input.warmRevision);
    return { target, plan: rolling(input.specOf(target), target, tracked, nowMs) };
  }
  const target = rollout.direction === 'forward' ? rollout.toRevision : rollout.fromRevision!;
  const spec = input.specOf(target);
  const strategy = strategyOf(rollout, spec);
  if (rollout.direction === 'back' || rollout.fromRevision === null || rollout.strategy === 'rolling') {
    const batchAnalysis = rollout.direction === 'forward' && rollout.fromRevision !== null ? (input.batchAnalysis ?? null) : null;
    return { target, plan: rolling({ ...spec, strategy }, target, instances, nowMs, hooks, batchAnalysis) };
  }
  const common = { app: input.app, replicas: spec.replicas, instances, isPaused: rollout.pausedAt !== null, nowMs, hooks };
  if (rollout.strategy === 'blue-green') {
    return {
      target,
      plan: planBlueGreen({ ...common, blueGreen: strategy.blueGreen!, blue: rollout.fromRevision, green: target, stepIndex: rollout.stepIndex }),
    };
  }
  return {
    target,
    plan: planCanary({
      ...common,
      canary: strategy.canary!,
      stable: rollout.fromRevision,
      canaryRevision: target,
      stepIndex: rollout.stepIndex,
      stepStartedAtMs: input.stepStartedAtMs,
      isStepAnalysisPassed: input.isStepAnalysisPassed ?? false,
    }),
  };
}

function rolling(
  spec: AppSpec,
  target: number,
  instances: readonly ObservedInstance[],
  nowMs: number,
  hooks: HookProgress = HOOKS_PASSED,
  batchAnalysis: { passedCount: number } | null = null,
): StrategyPlan {
  const plan = planRolling({
    replicas: spec.replicas,
    rolling: spec.strategy.rolling,
    targetRevision: target,
    instances,
    nowMs,
    isTrafficAllowed: hooks.isTrafficAllowed,
    isStepChecked: hooks.isStepChecked,
    batchAnalysis,
  });
  return {
    starts: plan.startCount > 0 ? [{ revision: target, count: plan.startCount }] : [],
    stopIds: plan.stopIds,
    traffic: hooks.isTrafficAllowed ? EQUAL_SHARES : heldOut(target, instances, plan.stopIds),
    stepIndex: 0,
    isComplete: plan.isComplete,
    step: plan.step,
    gate: null,
    isWaiting: plan.hookPoint !== null || plan.analysisBatch !== null,
    hookPoint: plan.hookPoint,
    analysisPoint: plan.analysisBatch === null ? null : batchPointKey(plan.analysisBatch),
  };
}

/** The analysis point of a rolling batch: `batch@2` once 2 new instances serve. */
export function batchPointKey(newInstances: number): string {
  return `batch@${newInstances}`;
}

/** `batch@2` → 2; null for any other point. */
export function batchOfPoint(pointKey: string): number | null {
  const match = /^batch@(\d+)$/.exec(pointKey);
  return match ? Number(match[1]) : null;
}

/** Equal shares per ready instance, as rolling does, but none for `held` (new instances before preTraffic). */
function heldOut(held: number, instances: readonly ObservedInstance[], stopIds: readonly string[]): TrafficIntent {
  const counts = new Map<number, number>();
  for (const i of instances) {
    if (i.revision === held || i.state !== 'ready' || stopIds.includes(i.id)) continue;
    counts.set(i.revision, (counts.get(i.revision) ?? 0) + 1);
  }
  return { ...EQUAL_SHARES, weights: [...counts.entries()].map(([revision, weight]) => ({ revision, weight })) };
}

/** The strategy settings a rollout runs with: its own, or (rollouts stored before they were kept) its revision's. */
export function strategyOf(rollout: RolloutRecord, spec: AppSpec): StrategySpec {
  return withDefaults(rollout.strategySpec ?? spec.strategy);
}

/** Fills in the blue-green and canary blocks that specs stored before they existed lack. */
export function withDefaults(strategy: StrategySpec): StrategySpec {
  return { ...strategy, use: strategy.use ?? 'rolling', blueGreen: strategy.blueGreen ?? resolveBlueGreen(), canary: strategy.canary ?? resolveCanary() };
}

/** The progress deadline of a rollout's strategy. */
export function progressDeadlineMs(strategy: StrategySpec, name: StrategyName): number {
  if (name === 'blue-green') return strategy.blueGreen!.progressDeadlineMs;
  if (name === 'canary') return strategy.canary!.progressDeadlineMs;
  return strategy.rolling.progressDeadlineMs;
}
