import { addToWindow, emptyWindow, histogramQuantile, type RevisionCounts } from '../model/measurements.js';
import type { PlanGeneration } from '../model/records.js';
import type { RolloutRecord } from '../model/records.js';
import type { Store } from '../store/store.js';
import { REPORT_BEFORE_MS, REPORT_PHASES, type PhaseFigures, type ReportPhase, type RevisionFigures, type StepFigures } from '../protocol/deploy-report.js';

/** The generations of each phase: the plan in force when the rollout started, every plan it made but its last, and its last (with any later one). */
export type GenerationPhases = Record<ReportPhase, PlanGeneration[]>;

/**
 * Splits an app's plan generations (the one in force at `startMs`, then every later one) into
 * report phases. Pure.
 *
 * @example
 * phasesOfGenerations([g1, g2, g3], g2.at, g3.at); // { before: [g1], during: [g2], after: [g3] }
 */
export function phasesOfGenerations(generations: readonly PlanGeneration[], startMs: number, endMs: number): GenerationPhases {
  const before = generations.filter((g) => g.at < startMs);
  const made = generations.filter((g) => g.at >= startMs && g.at <= endMs);
  const later = generations.filter((g) => g.at > endMs);
  return { before, during: made.slice(0, -1), after: [...made.slice(-1), ...later] };
}

/** One revision's figures from counts (any number of generations and seconds). */
export function revisionFigures(counted: readonly RevisionCounts[], revision: number, windowMs: number): RevisionFigures {
  const w = emptyWindow(windowMs);
  for (const c of counted) if (c.revision === revision) addToWindow(w, c.counts, c.latencyBuckets, c.latencySumSeconds);
  const ms = (q: number): number | null => {
    const s = histogramQuantile(q, w.latencyBuckets);
    return s === null ? null : Math.round(s * 10_000) / 10;
  };
  return { revision, requests: w.requests, app5xx: w.appStatus5xx, failed: w.proxyStatus5xx, p50Ms: ms(0.5), p99Ms: ms(0.99) };
}

export interface PlanCounting {
  phases: PhaseFigures[];
  steps: StepFigures[];
}

/**
 * The report's phases from the requests each plan generation routed: exact, whatever the
 * rollout's length. Null when the data plane counted nothing by generation while it counted by
 * second (HAProxy, Kubernetes): the caller falls back to seconds.
 */
export function countByPlan(rollout: RolloutRecord, store: Store, nowMs: number): PlanCounting | null {
  const start = rollout.startedAt;
  const end = rollout.endedAt ?? nowMs;
  const generations = store.planGenerationsSince(rollout.app, start);
  const byPhase = phasesOfGenerations(generations, start, end);
  const ids = (list: readonly PlanGeneration[]): number[] => list.map((g) => g.generation);
  const counted: Record<ReportPhase, RevisionCounts[]> = {
    before: store.trafficOfGenerations(rollout.app, ids(byPhase.before), start - REPORT_BEFORE_MS, nowMs + 1_000),
    during: store.trafficOfGenerations(rollout.app, ids(byPhase.during), 0, nowMs + 1_000),
    after: store.trafficOfGenerations(rollout.app, ids(byPhase.after), 0, nowMs + 1_000),
  };
  const any = REPORT_PHASES.some((p) => counted[p].length > 0);
  if (!any && store.trafficBetween(rollout.app, start - REPORT_BEFORE_MS, nowMs + 1_000).revisions.length > 0) return null;
  const revisions = revisionsOf(
    rollout,
    REPORT_PHASES.flatMap((p) => counted[p]),
  );
  const inForceAtStart = byPhase.before.at(-1)?.at ?? start;
  const durations: Record<ReportPhase, number> = {
    before: Math.min(REPORT_BEFORE_MS, start - inForceAtStart),
    during: end - start,
    after: Math.max(0, nowMs - end),
  };
  const windows: Record<ReportPhase, [number, number]> = { before: [start - REPORT_BEFORE_MS, start], during: [start, end], after: [end, nowMs] };
  const phases = REPORT_PHASES.map((phase): PhaseFigures => ({
    phase,
    durationMs: Math.max(0, durations[phase]),
    revisions: revisions.map((r) => revisionFigures(counted[phase], r, durations[phase])),
    unrouted: store.trafficBetween(rollout.app, windows[phase][0], windows[phase][1]).unrouted,
  }));
  const made = [...byPhase.during, ...byPhase.after.filter((g) => g.at <= end)];
  const steps = stepsOf(made, [...counted.during, ...counted.after], revisions, start, end);
  return { phases, steps };
}

/** The rollout's revisions, then any other that served under its plans (a rollback to an older one), ascending after those. */
function revisionsOf(rollout: RolloutRecord, counted: readonly RevisionCounts[]): number[] {
  const named = [rollout.fromRevision, rollout.toRevision].filter((r): r is number => r !== null);
  const others = [...new Set(counted.map((c) => c.revision))].filter((r) => !named.includes(r)).sort((a, b) => a - b);
  return [...new Set(named), ...others];
}

/** Consecutive plans with the same split make one step. */
function stepsOf(made: readonly PlanGeneration[], counted: readonly RevisionCounts[], revisions: readonly number[], start: number, end: number): StepFigures[] {
  const groups: PlanGeneration[][] = [];
  const split = (g: PlanGeneration): string => JSON.stringify(g.shares.map((s) => [s.revision, s.weight]));
  for (const g of made) {
    const last = groups.at(-1);
    if (last !== undefined && split(last[0]!) === split(g)) last.push(g);
    else groups.push([g]);
  }
  return groups.map((group, i): StepFigures => {
    const generations = group.map((g) => g.generation);
    const own = counted.filter((c) => c.generation !== undefined && generations.includes(c.generation));
    const next = groups[i + 1]?.[0]?.at ?? end;
    const durationMs = Math.max(0, next - group[0]!.at);
    const figures = revisions
      .map((r) => revisionFigures(own, r, durationMs))
      .filter((f) => f.requests > 0 || group[0]!.shares.some((s) => s.revision === f.revision));
    const all = emptyWindow(durationMs);
    for (const c of own) addToWindow(all, c.counts, c.latencyBuckets, c.latencySumSeconds);
    const p99 = histogramQuantile(0.99, all.latencyBuckets);
    return {
      generations,
      startMs: group[0]!.at - start,
      durationMs,
      weights: group[0]!.shares.map((s) => ({ revision: s.revision, weightPercent: s.weight })),
      requests: all.requests,
      errors: all.appStatus5xx + all.proxyStatus5xx,
      p99Ms: p99 === null ? null : Math.round(p99 * 10_000) / 10,
      revisions: figures,
    };
  });
}
