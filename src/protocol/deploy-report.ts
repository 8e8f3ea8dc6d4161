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
  /** Requests answered 503 because no instance could take them (counted per second, whatever `countedBy`). */
  unrouted: number;
}

/**
 * How the report's requests were put in phases: `plan` by the traffic-plan generation that routed
 * each request (exact; the built-in proxy), `second` by the wall-clock second the counts were read
 * in (routers that do not tell the generation: HAProxy, Kubernetes; a rollout shorter than a few
 * seconds blurs into its neighbours).
 */
export const REPORT_COUNTING = ['plan', 'second'] as const;

export type ReportCounting = (typeof REPORT_COUNTING)[number];

/** One step of the rollout: consecutive traffic plans with the same split (a canary step, a blue-green switch, a rolling batch). */
export interface StepFigures {
  /** The plan generations of the step, oldest first. */
  generations: number[];
  /** When its first plan took effect, in ms after the rollout started. */
  startMs: number;
  durationMs: number;
  /** Each revision's share of weighted traffic, in percent. */
  weights: { revision: number; weightPercent: number }[];
  /** Requests of every revision under the step's plans. */
  requests: number;
  /** App 5xx and failed requests of every revision under the step's plans. */
  errors: number;
  /** Over every revision of the step. */
  p99Ms: number | null;
  revisions: RevisionFigures[];
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
  /** How requests were put in phases; absent in reports written before issue 24 (they counted by `second`). */
  countedBy?: ReportCounting;
  /** The plans the rollout made, as steps (only when `countedBy` is `plan`). */
  steps?: StepFigures[];
  /**
   * A restart (`deploy --restart`, one revision on both sides): the instances it replaced and
   * those it started, by id. Traffic is counted per revision, so the figures above hold both.
   */
  restart?: { oldInstances: string[]; newInstances: string[] };
}
