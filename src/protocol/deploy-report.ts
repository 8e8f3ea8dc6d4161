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
  /**
   * A restart (`deploy --restart`, one revision on both sides): the instances it replaced and
   * those it started, by id. Traffic is counted per revision, so the figures above hold both.
   */
  restart?: { oldInstances: string[]; newInstances: string[] };
}
