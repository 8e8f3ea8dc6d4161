import type { AnalysisTemplateSpec, AppSpec, HookPoint, HooksSpec, StrategySpec } from './app-spec.js';
import type { InstanceState, Rollout } from './rollout.js';

/** The records cutover keeps (in its store, and on the wire): domain types, no I/O. */
export interface RevisionRecord {
  app: string;
  number: number;
  spec: AppSpec;
  specHash: string;
  createdAt: number;
  /** The files it runs; null for an app without `release:` (it runs from the working tree). */
  release?: ReleaseRecord | null;
  /** The `--set` overrides it was deployed with, as typed (`web.run.env.VERSION=7`); absent or empty: none. */
  overrides?: string[];
}

export const RELEASE_STATES = ['building', 'ready', 'failed', 'pruned'] as const;
/** `building`: copied, its build not done; `failed`: its build failed (files removed); `pruned`: removed to save disk. */
export type ReleaseState = (typeof RELEASE_STATES)[number];

/** The release of a revision: where its files are, what they hash to, where they came from. */
export interface ReleaseRecord {
  /** Content hash (sha256 hex) of the files as taken, before the build. */
  hash: string;
  /** Where it came from, for people: a directory, a `.tar.gz` file, or `git:REF`. */
  source: string;
  sourceKind: 'directory' | 'file' | 'commit';
  /** The commit, when taken from git. */
  commit: string | null;
  /** Absolute path of the release directory. */
  dir: string;
  bytes: number;
  /** Bytes written anew (the rest hard-linked from the previous release). */
  copiedBytes: number;
  buildMs: number | null;
  state: ReleaseState;
}

export interface InstanceRecord {
  id: string;
  app: string;
  revision: number;
  pid: number | null;
  /** Identifies the process beyond its pid (its start time), or null when unknown. */
  identity: string | null;
  /** The rollout that started it, if any. */
  rolloutId: number | null;
  port: number;
  state: InstanceState;
  reason: string | null;
  logPath: string;
  startedAt: number;
  readyAt: number | null;
  stoppedAt: number | null;
}

export interface EventRecord {
  id: number;
  at: number;
  app: string;
  rolloutId: number | null;
  kind: string;
  message: string;
}

/** `restart`: `cutover deploy --restart`, new processes of the stable revision (from and to the same revision). */
export type RolloutTrigger = 'deploy' | 'rollback' | 'restart';

export interface RolloutRecord extends Rollout {
  trigger: RolloutTrigger;
  endedAt: number | null;
  /** The strategy settings the rollout runs with, fixed at its start; null in rollouts stored before they were kept. */
  strategySpec: StrategySpec | null;
  /** Where a blue-green or canary rollout stands; 0 for rolling. */
  stepIndex: number;
  /** Wall-clock ms when the current step began. */
  stepStartedAt: number;
  /** Wall-clock ms when a person paused it (`cutover pause`), or null. */
  pausedAt: number | null;
  /** The gate it waits at for a person, in words, or null. */
  gate: string | null;
  /** After it ended: a revision kept running out of traffic until `warmUntil` (wall-clock ms). */
  warmRevision: number | null;
  warmUntil: number | null;
  /** The hooks the rollout runs, fixed at its start; null: none (a rollback, or stored before hooks). */
  hooks: HooksSpec | null;
  /** Hook points skipped by `cutover deploy --skip-hooks`. */
  skippedHooks: HookPoint[];
  /** The analysis templates the rollout judges with, fixed at its start; null: none. */
  analysis: Record<string, AnalysisTemplateSpec> | null;
  /** The deploy report, once it ended (JSON, see `DeployReport`). */
  report: unknown;
}

export const ANALYSIS_RUN_STATES = ['running', 'successful', 'failed', 'inconclusive', 'superseded'] as const;

/** `superseded`: an inconclusive run a person resumed past; the point runs again. */
export type AnalysisRunState = (typeof ANALYSIS_RUN_STATES)[number];

/** One run of one analysis template at one point of a rollout (`step@2`, `background`, `prePromotion`…). */
export interface AnalysisRunRecord {
  rolloutId: number;
  app: string;
  pointKey: string;
  template: string;
  state: AnalysisRunState;
  reason: string | null;
  startedAt: number;
  endedAt: number | null;
}

/** One measurement of a run. */
export interface AnalysisMeasurementRecord {
  id?: number;
  rolloutId: number;
  app: string;
  pointKey: string;
  template: string;
  /** Wall-clock ms. */
  at: number;
  windowMs: number;
  value: number | null;
  sampleSize: number | null;
  baselineValue: number | null;
  baselineSampleSize: number | null;
  result: 'successful' | 'failed' | 'inconclusive' | 'error';
  sentence: string;
}

export const HOOK_RUN_STATES = ['running', 'succeeded', 'failed', 'interrupted', 'cancelled', 'skipped'] as const;

/**
 * `running` is written before the hook starts; a restarted controller that finds it running
 * knows the hook was interrupted. `cancelled`: its rollout ended or turned back meanwhile.
 */
export type HookRunState = (typeof HOOK_RUN_STATES)[number];

/** One run of one hook at one point of a rollout. */
export interface HookRunRecord {
  rolloutId: number;
  app: string;
  point: HookPoint;
  /** The point, with the step for postTraffic (`postTraffic@2`): a hook runs once per key. */
  pointKey: string;
  /** Its place in the point's list. */
  index: number;
  /** The command or call as configured (variables not expanded: they may hold secrets). */
  description: string;
  state: HookRunState;
  attempts: number;
  pid: number | null;
  identity: string | null;
  reason: string | null;
  /** Wall-clock ms. */
  startedAt: number;
  endedAt: number | null;
}

/** The traffic split the proxy confirmed last: percent of weighted traffic per revision. */
/** One traffic plan the controller pushed: its generation (unique across restarts), when, and its split. */
export interface PlanGeneration {
  generation: number;
  app: string;
  /** Wall-clock ms. */
  at: number;
  shares: TrafficShare[];
}

export interface TrafficShare {
  revision: number;
  weight: number;
  instances: number;
}
