import { formatCount, formatValue } from '../analysis/judge.js';
import { addToWindow, emptyWindow, histogramQuantile } from '../analysis/measurement-history.js';
import type { RolloutRecord, Store } from '../store/store.js';

/** The "after" phase: how long traffic is measured after a rollout ended before its report is written. */
export const REPORT_AFTER_MS = 2_000;
/** The "before" phase: at most this long before the rollout started. */
export const REPORT_BEFORE_MS = 60_000;

export const REPORT_PHASES = ['before', 'during', 'after'] as const;
export type ReportPhase = (typeof REPORT_PHASES)[number];

export interface RevisionFigures {
  revision: number;
  requests: number;
  /** 5xx answered by the app itself. */
  app5xx: number;
  /** Requests that failed in the proxy: connection errors, timeouts (proxy-generated 5xx). */
  failed: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface PhaseFigures {
  phase: ReportPhase;
  durationMs: number;
  revisions: RevisionFigures[];
  /** Requests answered 503 because no instance could take them. */
  unrouted: number;
}

export interface AnalysisFigures {
  template: string;
  point: string;
  result: string;
  reason: string | null;
  measurements: number;
}

/** The proof of a deploy, stored with its rollout and printed by `cutover deploy` and `cutover report`. */
export interface DeployReport {
  rolloutId: number;
  app: string;
  strategy: string;
  fromRevision: number | null;
  toRevision: number;
  outcome: string;
  reason: string | null;
  durationMs: number;
  phases: PhaseFigures[];
  /** Failed requests (proxy-generated 5xx and unrouted) during the rollout and after it. */
  failedByDeploy: number;
  /** The part of them on the stable (old) revision, and unrouted ones. */
  failedOnStable: number;
  /** App 5xx of the new revision while it took traffic (what the analysis judges). */
  newRevisionApp5xx: number;
  analysis: AnalysisFigures[];
  /** False when the counts do not reach back to the rollout's start (the daemon began measuring later). */
  isComplete: boolean;
  headline: string;
}

export interface ReportInput {
  rollout: RolloutRecord;
  /** Its traffic seconds (kept across controller restarts), analysis runs and measurements. */
  store: Store;
  /** Wall-clock ms. */
  nowMs: number;
}

/** Builds a rollout's report from the traffic the store kept, second by second. Pure apart from reading the store. */
export function buildDeployReport(input: ReportInput): DeployReport {
  const { rollout, store } = input;
  const start = rollout.startedAt;
  const end = rollout.endedAt ?? input.nowMs;
  const windows: Record<ReportPhase, [number, number]> = { before: [start - REPORT_BEFORE_MS, start], during: [start, end], after: [end, input.nowMs] };
  const revisions = [...new Set([rollout.fromRevision, rollout.toRevision].filter((r): r is number => r !== null))];
  const phases = REPORT_PHASES.map((phase): PhaseFigures => {
    const [from, until] = windows[phase];
    const traffic = store.trafficBetween(rollout.app, from, until);
    return {
      phase,
      durationMs: Math.max(0, until - from),
      revisions: revisions.map((revision) => {
        const w = emptyWindow(until - from);
        const counted = traffic.revisions.find((r) => r.revision === revision);
        if (counted) addToWindow(w, counted.counts, counted.latencyBuckets, counted.latencySumSeconds);
        const ms = (q: number): number | null => {
          const s = histogramQuantile(q, w.latencyBuckets);
          return s === null ? null : Math.round(s * 10_000) / 10;
        };
        return { revision, requests: w.requests, app5xx: w.appStatus5xx, failed: w.proxyStatus5xx, p50Ms: ms(0.5), p99Ms: ms(0.99) };
      }),
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
  const headline = `rollout ${rollout.id} ${rollout.phase} (revision ${rollout.fromRevision ?? '-'} → ${rollout.toRevision}): ${formatCount(failedByDeploy)} failed request${failedByDeploy === 1 ? '' : 's'} caused by the deploy${rollout.phase === 'promoted' ? '' : `; why: ${rollout.reason ?? 'not recorded'}`}`;
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
  };
}

/** The report as lines for a terminal. */
export function formatDeployReport(report: DeployReport): string {
  const lines: string[] = [];
  lines.push(
    `deploy report: ${report.app} rollout ${report.rolloutId} (${report.strategy}, revision ${report.fromRevision ?? '-'} → ${report.toRevision}): ${report.outcome} after ${(report.durationMs / 1000).toFixed(1)}s`,
  );
  if (report.reason && report.outcome !== 'promoted') lines.push(`  why: ${report.reason}`);
  lines.push(
    `  ${'phase'.padEnd(7)} ${'revision'.padEnd(8)} ${'requests'.padStart(9)} ${'app 5xx'.padStart(8)} ${'failed'.padStart(7)} ${'p50'.padStart(9)} ${'p99'.padStart(9)}`,
  );
  for (const phase of report.phases) {
    for (const r of phase.revisions) {
      const ms = (v: number | null): string => (v === null ? '-' : `${formatValue(v)}ms`);
      lines.push(
        `  ${phase.phase.padEnd(7)} ${String(r.revision).padEnd(8)} ${formatCount(r.requests).padStart(9)} ${formatCount(r.app5xx).padStart(8)} ${formatCount(r.failed).padStart(7)} ${ms(r.p50Ms).padStart(9)} ${ms(r.p99Ms).padStart(9)}`,
      );
    }
    if (phase.unrouted > 0) lines.push(`  ${phase.phase.padEnd(7)} (none)   ${formatCount(phase.unrouted).padStart(9)} requests found no instance (503)`);
  }
  for (const a of report.analysis)
    lines.push(
      `  analysis ${a.template} (${a.point}): ${a.result} after ${a.measurements} measurement${a.measurements === 1 ? '' : 's'}${a.reason ? `: ${a.reason}` : ''}`,
    );
  if (report.newRevisionApp5xx > 0) lines.push(`  the new revision answered ${formatCount(report.newRevisionApp5xx)} 5xx of its own while it took traffic`);
  lines.push(
    `  failed requests caused by the deploy: ${formatCount(report.failedByDeploy)} (on the stable side: ${formatCount(report.failedOnStable)})${report.isComplete ? '' : ' [partial: counting began after the rollout started]'}`,
  );
  return lines.join('\n');
}
