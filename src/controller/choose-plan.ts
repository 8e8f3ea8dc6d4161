import type { AppSpec, StrategySpec } from '../model/app-spec.js';
import { resolveBlueGreen, resolveCanary } from '../config/resolve-config.js';
import { rollingPlan } from '../strategies/rolling.js';
import { strategyNamed } from '../strategies/strategies.js';
import { EQUAL_SHARES, HOOKS_PASSED, type HookProgress, type ObservedInstance, type StrategyPlan } from '../strategies/strategy-plan.js';
import type { RolloutRecord } from '../model/records.js';
import { isRestart, RESTART_OLD_REVISION, restartPlan, restartView } from './restart-view.js';

export interface PlanInput {
  app: string;
  /** The app's active rollout, or null in the steady state. */
  rollout: RolloutRecord | null;
  stableRevision: number | null;
  /** Steady state only: a revision kept running out of traffic (blue after a switch, an aborted canary). */
  warmRevision: number | null;
  specOf: (revision: number) => AppSpec;
  /** How many instances the app runs (`cutover scale`, or the last deploy); default: the target revision's spec. */
  replicas?: number;
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
    const spec = input.specOf(target);
    const replicas = input.replicas ?? spec.replicas;
    return { target, plan: rollingPlan({ replicas, rolling: spec.strategy.rolling, target, instances: tracked, nowMs }) };
  }
  const target = rollout.direction === 'forward' ? rollout.toRevision : rollout.fromRevision!;
  const spec = input.specOf(target);
  const strategy = strategyOf(rollout, spec);
  const replicas = input.replicas ?? spec.replicas;
  if (rollout.direction === 'back' || rollout.fromRevision === null) {
    return { target, plan: rollingPlan({ replicas, rolling: strategy.rolling, target, instances, nowMs, hooks }) };
  }
  // A restart: the instances this rollout did not start play the old revision (see restart-view.ts).
  const view = isRestart(rollout) ? restartView(instances, rollout.id) : instances;
  const plan = strategyNamed(rollout.strategy).plan({
    app: input.app,
    replicas,
    strategy,
    stable: isRestart(rollout) ? RESTART_OLD_REVISION : rollout.fromRevision,
    target,
    instances: view,
    stepIndex: rollout.stepIndex,
    stepStartedAtMs: input.stepStartedAtMs,
    isPaused: rollout.pausedAt !== null,
    nowMs,
    hooks,
    isStepAnalysisPassed: input.isStepAnalysisPassed ?? false,
    batchAnalysis: input.batchAnalysis ?? null,
  });
  return { target, plan: isRestart(rollout) ? restartPlan(plan, view) : plan };
}

/** The strategy settings a rollout runs with: its own, or (rollouts stored before they were kept) its revision's. */
export function strategyOf(rollout: RolloutRecord, spec: AppSpec): StrategySpec {
  return withDefaults(rollout.strategySpec ?? spec.strategy);
}

/** Fills in the blue-green and canary blocks that specs stored before they existed lack. */
export function withDefaults(strategy: StrategySpec): StrategySpec {
  return { ...strategy, use: strategy.use ?? 'rolling', blueGreen: strategy.blueGreen ?? resolveBlueGreen(), canary: strategy.canary ?? resolveCanary() };
}
