import type { AnalysisProviderName, AnalysisTemplateSpec } from '../model/spec.js';
import { isTerminalPhase } from '../model/rollout.js';
import type { AnalysisMeasurementRecord, AnalysisRunRecord, RolloutRecord, Store } from '../store/store.js';
import { judgeMeasurement, judgeRun, type RunPhase } from './judge.js';
import type { MetricProvider } from './metric-provider.js';
import type { EventKind } from '../controller/event-kinds.js';

export interface AnalysisRunnerOptions {
  store: Store;
  providers: Record<AnalysisProviderName, MetricProvider>;
  emit: (app: string, rolloutId: number | null, kind: EventKind, message: string) => void;
  /** Called when a run ended: the app's reconcile looks at the new state. */
  onSettled: (app: string) => void;
  log: (line: string) => void;
}

/** Where the analysis of one point of a rollout stands. */
export type PointVerdict = { kind: 'passed' } | { kind: 'running' } | { kind: 'failed'; reason: string } | { kind: 'inconclusive'; reason: string };

interface OwnedRun {
  app: string;
  rolloutId: number;
  pointKey: string;
  timer: NodeJS.Timeout | null;
  abort: AbortController;
}

/** The revisions a run measures: the new one, and stable for a baseline. */
export interface AnalysisTarget {
  revision: number;
  stableRevision: number | null;
}

/**
 * Runs analysis templates beside the reconcile loop, as the hook runner runs hooks: the loop
 * asks for a point (`advance`), each template measures every `interval` in the background,
 * every measurement and the end of every run are persisted, and the run's end wakes the loop.
 * A run found `running` that this controller does not own (a restart) resumes where its stored
 * measurements left it.
 */
export class AnalysisRunner {
  private readonly owned = new Map<string, OwnedRun>();
  private readonly runCounts = new Map<string, number>();
  private isStopping = false;

  constructor(private readonly options: AnalysisRunnerOptions) {}

  /** Starts (or resumes) the runs of `templates` at `pointKey`, unless they run or ended already. */
  advance(rollout: RolloutRecord, pointKey: string, templates: readonly string[], target: AnalysisTarget, options: { isOpenEnded?: boolean } = {}): void {
    if (this.isStopping || rollout.pausedAt !== null) return;
    const runs = this.options.store.listAnalysisRuns({ rolloutId: rollout.id });
    for (const name of templates) {
      const key = runKey(rollout.id, pointKey, name);
      if (this.owned.has(key)) continue;
      const run = runs.find((r) => r.pointKey === pointKey && r.template === name);
      if (run && run.state !== 'running' && run.state !== 'superseded') continue;
      const template = rollout.analysis?.[name];
      if (!template) {
        this.end(
          { rolloutId: rollout.id, app: rollout.app, pointKey, template: name, state: 'running', reason: null, startedAt: Date.now(), endedAt: null },
          'inconclusive',
          `analysis template "${name}" is not part of this rollout`,
        );
        continue;
      }
      const fresh: AnalysisRunRecord =
        run && run.state === 'running'
          ? run
          : { rolloutId: rollout.id, app: rollout.app, pointKey, template: name, state: 'running', reason: null, startedAt: Date.now(), endedAt: null };
      if (fresh !== run) {
        this.options.store.upsertAnalysisRun(fresh);
        this.options.emit(
          rollout.app,
          rollout.id,
          'analysis-started',
          `analysis ${name} (${describePoint(pointKey)}) started: ${describeTemplate(template, options.isOpenEnded === true && template.count === null)}`,
        );
      }
      const owned: OwnedRun = { app: rollout.app, rolloutId: rollout.id, pointKey, timer: null, abort: new AbortController() };
      this.owned.set(key, owned);
      this.schedule(owned, fresh, template, target, options.isOpenEnded === true && template.count === null);
    }
  }

  /** Where a point stands: failed or inconclusive as soon as one template is; passed once all are. */
  verdict(rolloutId: number, pointKey: string, templates: readonly string[]): PointVerdict {
    const runs = this.options.store.listAnalysisRuns({ rolloutId }).filter((r) => r.pointKey === pointKey && r.state !== 'superseded');
    const failed = runs.find((r) => r.state === 'failed');
    if (failed) return { kind: 'failed', reason: failed.reason ?? `analysis ${failed.template} failed` };
    const inconclusive = runs.find((r) => r.state === 'inconclusive');
    if (inconclusive) return { kind: 'inconclusive', reason: inconclusive.reason ?? `analysis ${inconclusive.template} was inconclusive` };
    const isAllPassed = templates.every((name) => runs.some((r) => r.template === name && r.state === 'successful'));
    return isAllPassed ? { kind: 'passed' } : { kind: 'running' };
  }

  /** The first failed and the first inconclusive run of a rollout, at any point. */
  outcome(rolloutId: number): { failed: AnalysisRunRecord | null; inconclusive: AnalysisRunRecord | null } {
    const runs = this.options.store.listAnalysisRuns({ rolloutId });
    return { failed: runs.find((r) => r.state === 'failed') ?? null, inconclusive: runs.find((r) => r.state === 'inconclusive') ?? null };
  }

  /** `cutover resume` after an inconclusive analysis: those runs are set aside, and their points run again. */
  supersedeInconclusive(rolloutId: number): number {
    const runs = this.options.store.listAnalysisRuns({ rolloutId }).filter((r) => r.state === 'inconclusive');
    for (const run of runs) this.options.store.upsertAnalysisRun({ ...run, state: 'superseded' });
    return runs.length;
  }

  /**
   * Stops the runs of rollouts that ended or turned back (their state stays as stored), and
   * the run of a canary step a person promoted past (set aside as superseded).
   */
  cancelStale(app: string): void {
    for (const [key, owned] of this.owned) {
      if (owned.app !== app) continue;
      const rollout = this.options.store.getRollout(owned.rolloutId);
      const step = /^step@(\d+)$/.exec(owned.pointKey);
      const isPassedStep = rollout !== null && step !== null && Number(step[1]) !== rollout.stepIndex;
      if (rollout && !isTerminalPhase(rollout.phase) && rollout.direction === 'forward' && !isPassedStep) continue;
      this.release(key, owned);
      if (isPassedStep) {
        for (const run of this.options.store.listAnalysisRuns({ rolloutId: owned.rolloutId })) {
          if (run.pointKey === owned.pointKey && run.state === 'running')
            this.options.store.upsertAnalysisRun({ ...run, state: 'superseded', reason: 'the step was promoted past', endedAt: Date.now() });
        }
      }
    }
  }

  /** Completed runs by app, template and result, since this controller started. */
  counts(): { app: string; template: string; result: string; count: number }[] {
    return [...this.runCounts].map(([key, count]) => {
      const [app, template, result] = JSON.parse(key) as [string, string, string];
      return { app, template, result, count };
    });
  }

  stop(): void {
    this.isStopping = true;
    for (const [key, owned] of this.owned) this.release(key, owned);
  }

  private release(key: string, owned: OwnedRun): void {
    if (owned.timer) clearTimeout(owned.timer);
    owned.abort.abort();
    this.owned.delete(key);
  }

  private schedule(owned: OwnedRun, run: AnalysisRunRecord, template: AnalysisTemplateSpec, target: AnalysisTarget, isOpenEnded: boolean): void {
    owned.timer = setTimeout(() => {
      owned.timer = null;
      void this.measure(owned, run, template, target, isOpenEnded).catch((error: unknown) =>
        this.options.log(`analysis ${template.name} of rollout ${run.rolloutId}: ${(error as Error).stack ?? String(error)}`),
      );
    }, template.intervalMs);
  }

  private async measure(owned: OwnedRun, run: AnalysisRunRecord, template: AnalysisTemplateSpec, target: AnalysisTarget, isOpenEnded: boolean): Promise<void> {
    const key = runKey(run.rolloutId, run.pointKey, run.template);
    const effective = withImplicitCondition(template);
    const measurement = await this.options.providers[template.provider].measure({
      app: run.app,
      revision: target.revision,
      stableRevision: target.stableRevision,
      template,
      windowMs: template.intervalMs,
      signal: owned.abort.signal,
    });
    if (this.owned.get(key) !== owned) return; // Cancelled meanwhile.
    const verdict = judgeMeasurement(effective, measurement);
    const record: AnalysisMeasurementRecord = {
      rolloutId: run.rolloutId,
      app: run.app,
      pointKey: run.pointKey,
      template: run.template,
      at: Date.now(),
      windowMs: template.intervalMs,
      value: measurement.value,
      sampleSize: measurement.sampleSize,
      baselineValue: measurement.baseline?.value ?? null,
      baselineSampleSize: measurement.baseline?.sampleSize ?? null,
      result: verdict.result,
      sentence: verdict.sentence,
    };
    const { store } = this.options;
    store.addAnalysisMeasurement(record);
    const results = store
      .listAnalysisMeasurements({ rolloutId: run.rolloutId, pointKey: run.pointKey, template: run.template })
      .filter((m) => m.at >= run.startedAt)
      .map((m) => m.result);
    const { phase, reason } = judgeRun(
      {
        count: isOpenEnded ? null : (template.count ?? 1),
        failureLimit: template.failureLimit,
        consecutiveErrorLimit: template.consecutiveErrorLimit,
        inconclusiveLimit: template.inconclusiveLimit,
      },
      results,
    );
    this.options.emit(run.app, run.rolloutId, 'analysis-measurement', `analysis ${run.template} #${results.length}: ${verdict.result}: ${verdict.sentence}`);
    if (phase === 'running') {
      this.schedule(owned, run, template, target, isOpenEnded);
      return;
    }
    this.owned.delete(key);
    // The sentence of the measurement that decided says what a person needs to know.
    const decisive = phase === 'successful' ? reason : `${verdict.sentence} (${reason})`;
    this.end(run, phase, decisive);
  }

  private end(run: AnalysisRunRecord, phase: Exclude<RunPhase, 'running'>, reason: string): void {
    this.options.store.upsertAnalysisRun({ ...run, state: phase, reason, endedAt: Date.now() });
    const countKey = JSON.stringify([run.app, run.template, phase]);
    this.runCounts.set(countKey, (this.runCounts.get(countKey) ?? 0) + 1);
    this.options.emit(run.app, run.rolloutId, `analysis-${phase}`, `analysis ${run.template} (${describePoint(run.pointKey)}) ${phase}: ${reason}`);
    this.options.onSettled(run.app);
  }
}

/** A command template without a condition passes on exit code 0. */
function withImplicitCondition(template: AnalysisTemplateSpec): AnalysisTemplateSpec {
  if (template.provider !== 'command' || template.successCondition !== null || template.failureCondition !== null) return template;
  return { ...template, successCondition: '== 0' };
}

function runKey(rolloutId: number, pointKey: string, template: string): string {
  return `${rolloutId}/${pointKey}/${template}`;
}

/** `step@2` → `canary step 3`. */
export function describePoint(pointKey: string): string {
  const step = /^step@(\d+)$/.exec(pointKey);
  if (step) return `canary step ${Number(step[1]) + 1}`;
  const batch = /^batch@(\d+)$/.exec(pointKey);
  if (batch) return `rolling batch, ${batch[1]} new instance${batch[1] === '1' ? '' : 's'} serving`;
  return (
    { background: 'background', prePromotion: 'prePromotionAnalysis', postPromotion: 'postPromotionAnalysis', rolling: 'rolling analysis' }[pointKey] ??
    pointKey
  );
}

function describeTemplate(t: AnalysisTemplateSpec, isOpenEnded: boolean): string {
  const what =
    t.provider === 'builtin'
      ? `builtin ${t.metric}`
      : t.provider === 'prometheus'
        ? `prometheus ${t.query}`
        : t.provider === 'command'
          ? `command ${t.command?.join(' ')}`
          : `GET ${t.url}`;
  const conditions = [
    t.successCondition && `success ${t.successCondition}`,
    t.failureCondition && `failure ${t.failureCondition}`,
    t.baseline && `within ${t.baseline.maxRatio}× stable`,
  ]
    .filter(Boolean)
    .join(', ');
  return `${what}${conditions ? ` (${conditions})` : ''}, every ${t.intervalMs / 1000}s × ${isOpenEnded ? 'until the rollout ends' : (t.count ?? 1)}`;
}
