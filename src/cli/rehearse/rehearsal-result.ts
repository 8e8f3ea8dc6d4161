import type { DeployReport } from '../../protocol/deploy-report.js';
import type { RolloutPhase, StrategyName } from '../../model/rollout.js';
import type { RehearsalRequest } from '../../model/app-spec.js';

/**
 * `cutover rehearse --json`: the whole rehearsal, one document (documented in docs/rehearse.md).
 * A contract for scripts: extend, never rename.
 */
export interface RehearsalResult {
  /** True exactly when the command exits 0: no request failed and every deploy ended as expected. */
  isPassed: boolean;
  /** Absolute path of the config rehearsed. */
  config: string;
  /** When the rehearsal began (ISO time) and how long it took, setup and cleanup included. */
  startedAt: string;
  durationMs: number;
  /** `--deploys`: deploys of a new revision per app, before the broken one. */
  deploysPerApp: number;
  /** `--clients`: keep-alive clients per app. */
  clientsPerApp: number;
  /** `--strategy`, or null: each app's own. */
  strategy: StrategyName | null;
  apps: RehearsalApp[];
  /** In the order they ran: each app's deploys 1…N, then each app's broken revision. */
  deploys: RehearsalDeploy[];
  /** What went wrong outside the deploys (each deploy lists its own): the rehearsal broke off, requests failed between deploys, something was left behind. */
  problems: string[];
}

export interface RehearsalApp {
  name: string;
  /** The address the rehearsal's proxy took the app's traffic on (a free loopback port). */
  origin: string;
  /** What each client sent in turn (`rehearse.requests`, default GET /). */
  requests: RehearsalRequest[];
  /** Everything the app's clients saw, from the first request to the last. */
  load: LoadFigures;
  /** Answers per revision, from the `x-cutover-revision` header where the app sends it. */
  byRevision: Record<string, number>;
  /** Failed requests outside every deploy of this app (before the first, or during another app's). */
  failedOutsideDeploys: number;
}

/** What the clients saw: a request fails when it gets no answer or a 5xx. */
export interface LoadFigures {
  requests: number;
  failed: number;
  /** Latency of the answered requests; null when none was. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** The failed requests, grouped by what they were and what went wrong (the first 500 are kept). */
  failures: FailedRequests[];
}

export interface FailedRequests {
  method: string;
  path: string;
  /** The status answered, or null when there was no answer (`error` says why). */
  status: number | null;
  error: string | null;
  count: number;
}

export const DEPLOY_EXPECTATIONS = ['promoted', 'rolled-back'] as const;
export type DeployExpectation = (typeof DEPLOY_EXPECTATIONS)[number];

export interface RehearsalDeploy {
  app: string;
  /** The test case's name in the JUnit file, e.g. "deploy 2 of 5 is promoted". */
  name: string;
  /** 1…N; the broken revision is N + 1. */
  number: number;
  /** The deliberately broken revision: its health check never passes. */
  isBroken: boolean;
  /** The strategy it ran with; null when it did not start. */
  strategy: StrategyName | null;
  rolloutId: number | null;
  revision: number | null;
  expected: DeployExpectation;
  /** How its rollout ended; `not-started` when the daemon refused the deploy. */
  outcome: RolloutPhase | 'not-started';
  /** Why it rolled back or failed (or was refused), in the daemon's words. */
  reason: string | null;
  /** From the deploy request to the rollout's end. */
  durationMs: number;
  /** Gates (blue-green preview, canary pauses) the rehearsal promoted. */
  gatesPromoted: number;
  /** What the app's clients saw from the deploy request until its report was written. */
  load: LoadFigures;
  /** The daemon's deploy report (`cutover report`), or null when none was written. */
  report: DeployReport | null;
  isPassed: boolean;
  problems: string[];
}
