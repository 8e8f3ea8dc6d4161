import { formatCount } from '../analysis/judge.js';
import { countByPlan, revisionFigures } from './report-by-plan.js';
import type { Store } from '../store/store.js';
import type { InstanceRecord, RolloutRecord } from '../model/records.js';
import { REPORT_BEFORE_MS, REPORT_PHASES, type DeployReport, type PhaseFigures, type ReportPhase } from '../protocol/deploy-report.js';

export interface ReportInput {
  rollout: RolloutRecord;
  /** Its traffic seconds (kept across controller restarts), analysis runs and measurements. */
  store: Store;
  /** Wall-clock ms. */
  nowMs: number;
}

/**
 * Builds a rollout's report from the traffic the store kept: by the plan generation that routed
 * each request where the data plane tells it, else second by second. Pure apart from reading the store.
 */
export function buildDeployReport(input: ReportInput): DeployReport {
  const { rollout, store } = input;
  const start = rollout.startedAt;
  const end = rollout.endedAt ?? input.nowMs;
  const windows: Record<ReportPhase, [number, number]> = { before: [start - REPORT_BEFORE_MS, start], during: [start, end], after: [end, input.nowMs] };
  const revisions = [...new Set([rollout.fromRevision, rollout.toRevision].filter((r): r is number => r !== null))];
  const byPlan = countByPlan(rollout, store, input.nowMs);
  const phases =
    byPlan?.phases ??
    REPORT_PHASES.map((phase): PhaseFigures => {
      const [from, until] = windows[phase];
      const traffic = store.trafficBetween(rollout.app, from, until);
      return {
        phase,
        durationMs: Math.max(0, until - from),
        revisions: revisions.map((revision) => revisionFigures(traffic.revisions, revision, until - from)),
        unrouted: traffic.unrouted,
      };
    });
  const deployPhases = phases.filter((p) => p.phase !== 'before');
  const failedOn = (revision: number | null): number =>
    deployPhases.reduce((sum, p) => sum + (p.revisions.find((r) => r.revision === revision)?.failed ?? 0), 0);
  const unrouted = deployPhases.reduce((sum, p) => sum + p.unrouted, 0);
  const failedByDeploy = deployPhases.reduce((sum, p) => sum + p.unrouted + p.revisions.reduce((s, r) => s + r.failed, 0), 0);
  const failedOnStable = failedOn(rollout.fromRevision) + unrouted;
  const newRevisionApp5xx = deployPhases.reduce(
    (sum, p) => sum + (p.revisions.find((r) => r.revision === rollout.toRevision && r.revision !== rollout.fromRevision)?.app5xx ?? 0),
    0,
  );
  const runs = input.store.listAnalysisRuns({ rolloutId: rollout.id });
  const analysis = runs.map((run) => ({
    template: run.template,
    point: run.pointKey,
    result: run.state,
    reason: run.reason,
    measurements: input.store.listAnalysisMeasurements({ rolloutId: rollout.id, pointKey: run.pointKey, template: run.template }).length,
  }));
  const since = store.measuringSince();
  const isComplete = since !== null && since <= start;
  const isRestart = rollout.fromRevision === rollout.toRevision;
  const what = isRestart ? `restart of revision ${rollout.toRevision}` : `revision ${rollout.fromRevision ?? '-'} → ${rollout.toRevision}`;
  const headline = `rollout ${rollout.id} ${rollout.phase} (${what}): ${formatCount(failedByDeploy)} failed request${failedByDeploy === 1 ? '' : 's'} caused by the deploy${rollout.phase === 'promoted' ? '' : `; why: ${rollout.reason ?? 'not recorded'}`}`;
  return {
    rolloutId: rollout.id,
    app: rollout.app,
    strategy: rollout.strategy,
    fromRevision: rollout.fromRevision,
    toRevision: rollout.toRevision,
    outcome: rollout.phase,
    reason: rollout.reason,
    durationMs: end - start,
    phases,
    failedByDeploy,
    failedOnStable,
    newRevisionApp5xx,
    analysis,
    isComplete,
    headline,
    countedBy: byPlan === null ? 'second' : 'plan',
    ...(byPlan === null ? {} : { steps: byPlan.steps }),
    ...(isRestart ? { restart: restartInstances(rollout, store) } : {}),
  };
}

/** The instances a restart replaced (running when it started) and those it started. */
function restartInstances(rollout: RolloutRecord, store: Store): { oldInstances: string[]; newInstances: string[] } {
  const ofRevision = store.listInstances(rollout.app, { includeStopped: true }).filter((i) => i.revision === rollout.toRevision);
  const wasRunning = (i: InstanceRecord): boolean => i.startedAt < rollout.startedAt && (i.stoppedAt === null || i.stoppedAt >= rollout.startedAt);
  return {
    oldInstances: ofRevision.filter((i) => i.rolloutId !== rollout.id && wasRunning(i)).map((i) => i.id),
    newInstances: ofRevision.filter((i) => i.rolloutId === rollout.id).map((i) => i.id),
  };
}
