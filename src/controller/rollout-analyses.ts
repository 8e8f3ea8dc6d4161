import type { AnalysisRunner } from '../analysis/analysis-runner.js';
import type { Store } from '../store/store.js';
import type { RolloutRecord } from '../model/records.js';
import { batchOfPoint } from '../strategies/rolling.js';
import { strategyNamed } from '../strategies/strategies.js';
import { NO_ANALYSIS_POINTS, type AnalysisPoints } from '../strategies/strategy.js';
import type { HookProgress, StrategyPlan } from '../strategies/strategy-plan.js';
import { strategyOf } from './choose-plan.js';

/**
 * Where a forward rollout's analyses stand, for its planner, and which are due where its plan
 * stands. The strategy says where it analyses; the runner measures beside the loop.
 */
export class RolloutAnalyses {
  constructor(
    private readonly store: Store,
    private readonly runner: AnalysisRunner,
  ) {}

  /** The rollout's analysis points; pre and post only when the rollout was deployed with analysis. */
  private pointsOf(rollout: RolloutRecord): AnalysisPoints {
    if (rollout.fromRevision === null) return NO_ANALYSIS_POINTS;
    const points = strategyNamed(rollout.strategy).analysisPoints(strategyOf(rollout, this.store.getRevision(rollout.app, rollout.toRevision)!.spec));
    return rollout.analysis ? points : { ...points, pre: null, post: null, postKey: '' };
  }

  /** Hooks and analyses hold the same points: traffic waits for both, and so does the end. */
  withAnalysis(rollout: RolloutRecord, hooks: HookProgress): HookProgress {
    const { pre, post, postKey } = this.pointsOf(rollout);
    const isPassed = (key: string, templates: readonly string[] | null): boolean =>
      templates === null || this.runner.verdict(rollout.id, key, templates).kind === 'passed';
    return {
      ...hooks,
      isTrafficAllowed: hooks.isTrafficAllowed && isPassed('prePromotion', pre),
      isStepChecked: hooks.isStepChecked && isPassed(postKey, post),
    };
  }

  /** The analysis of the step the rollout is at passed (a canary `analysis` step). */
  isStepPassed(rollout: RolloutRecord): boolean {
    const templates = this.pointsOf(rollout).stepTemplates(rollout.stepIndex);
    return this.runner.verdict(rollout.id, `step@${rollout.stepIndex}`, templates).kind === 'passed';
  }

  /**
   * A rollout with analysis after each batch: how many new instances its passed batch analyses
   * vouch for (the largest `batch@N` that passed), so the next batch may start. Null: no batches.
   */
  batchAnalysis(rollout: RolloutRecord): { passedCount: number } | null {
    const { post, isPostPerBatch } = this.pointsOf(rollout);
    if (!isPostPerBatch || post === null) return null;
    let passedCount = 0;
    for (const run of this.store.listAnalysisRuns({ rolloutId: rollout.id })) {
      const batch = batchOfPoint(run.pointKey);
      if (batch !== null && batch > passedCount && this.runner.verdict(rollout.id, run.pointKey, post).kind === 'passed') passedCount = batch;
    }
    return { passedCount };
  }

  /** Starts the analyses due where the plan stands; they run beside the loop and their end wakes it. */
  advance(rollout: RolloutRecord, plan: StrategyPlan): void {
    if (rollout.fromRevision === null) return;
    const target = { revision: rollout.toRevision, stableRevision: rollout.fromRevision };
    const { pre, post, postKey, background, stepTemplates } = this.pointsOf(rollout);
    if (plan.analysisPoint) {
      const templates = batchOfPoint(plan.analysisPoint) === null ? stepTemplates(rollout.stepIndex) : (post ?? []);
      this.runner.advance(rollout, plan.analysisPoint, templates, target);
    }
    if (pre && plan.hookPoint === 'preTraffic') this.runner.advance(rollout, 'prePromotion', pre, target);
    if (post && plan.hookPoint === 'postTraffic') this.runner.advance(rollout, postKey, post, target);
    if (background && rollout.stepIndex >= background.startingStep)
      this.runner.advance(rollout, 'background', background.templates, target, { isOpenEnded: true });
  }
}
