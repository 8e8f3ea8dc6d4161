import type { StrategyName } from '../model/rollout.js';
import type { HostPort, StrategySpec } from '../model/app-spec.js';
import type { HookProgress, ObservedInstance, StrategyPlan } from './strategy-plan.js';

/** Everything a planner may look at for one pass of a forward rollout from a stable revision. */
export interface RolloutPlanInput {
  app: string;
  replicas: number;
  /** The rollout's strategy settings, defaults filled in. */
  strategy: StrategySpec;
  /** The revision serving before the rollout. */
  stable: number;
  /** The revision being rolled out. */
  target: number;
  /** Live instances (starting, ready); draining ones are on their way out and left out. */
  instances: readonly ObservedInstance[];
  stepIndex: number;
  /** Monotonic ms when the current step began. */
  stepStartedAtMs: number;
  /** Paused by a person (`cutover pause`): nothing advances. */
  isPaused: boolean;
  nowMs: number;
  hooks: HookProgress;
  /** The analysis of the current step (`step@N`) passed. */
  isStepAnalysisPassed: boolean;
  /** Rolling with analysis between batches: how many new instances passed analyses vouch for; null: no batches. */
  batchAnalysis: { passedCount: number } | null;
}

/** Where a strategy runs analyses, besides the hooks points they share. */
export interface AnalysisPoints {
  /** Before the new revision takes real traffic (at preTraffic), under the key `prePromotion`. */
  pre: readonly string[] | null;
  /** Once it serves (at postTraffic), under `postKey`. */
  post: readonly string[] | null;
  postKey: string;
  /** `post` also runs after each batch of new instances (`batch@N`). */
  isPostPerBatch: boolean;
  /** Runs open-ended beside the steps from `startingStep` on. */
  background: { templates: readonly string[]; startingStep: number } | null;
  /** The templates of an `analysis` step at `stepIndex`, or none. */
  stepTemplates(stepIndex: number): readonly string[];
}

/**
 * One way to move an app from its stable revision to a new one. Everything the controller must
 * know about a strategy is here, so adding a strategy touches its own file and the registry.
 * Pure: no I/O, no clock of its own.
 */
export interface Strategy {
  readonly name: StrategyName;
  /** One pass of a forward rollout: what to start and stop, where traffic goes, where it stands. */
  plan(input: RolloutPlanInput): StrategyPlan;
  /** The step a person's `cutover promote` leads to, or null when there is no gate or step to promote. */
  promote(stepIndex: number, strategy: StrategySpec, isFull: boolean): number | null;
  /** How long the new revision stays up out of traffic after an abort. */
  abortScaleDownDelayMs(strategy: StrategySpec): number;
  /** How long the old revision stays up out of traffic after a completed rollout. */
  scaleDownDelayMs(strategy: StrategySpec): number;
  progressDeadlineMs(strategy: StrategySpec): number;
  analysisPoints(strategy: StrategySpec): AnalysisPoints;
  /** Step names for people (status, dashboard); empty when the strategy has no steps. */
  stepNames(strategy: StrategySpec): string[];
  /** Where the new revision answers before the switch (PREVIEW_URL at preTraffic), or null. */
  previewListen(strategy: StrategySpec): HostPort | null;
  /** How a rollback to an earlier revision runs when a rollout of this strategy was the last. */
  rollbackVia(strategy: StrategySpec): { strategy: StrategyName; strategySpec: StrategySpec };
}

export const NO_ANALYSIS_POINTS: AnalysisPoints = { pre: null, post: null, postKey: '', isPostPerBatch: false, background: null, stepTemplates: () => [] };
