import { CutoverError } from '../errors.js';
import type { MeasurementCursor, RevisionCounts, SampleDelta } from '../model/measurements.js';
import type { AnalysisTemplateSpec, AppSpec, HookPoint, HooksSpec, StrategySpec } from '../model/app-spec.js';
import type { RolloutDirection, RolloutPhase, StrategyName } from '../model/rollout.js';
import type {
  AnalysisRunRecord,
  HookRunRecord,
  HookRunState,
  InstanceRecord,
  RevisionRecord,
  ReleaseRecord,
  RolloutRecord,
  RolloutTrigger,
  TrafficShare,
  PlanGeneration,
  EventRecord,
  AnalysisMeasurementRecord,
} from '../model/records.js';

export interface NewRollout {
  app: string;
  strategy: StrategyName;
  strategySpec: StrategySpec;
  trigger: RolloutTrigger;
  fromRevision: number | null;
  toRevision: number;
  hooks?: HooksSpec | null;
  skippedHooks?: HookPoint[];
  analysis?: Record<string, AnalysisTemplateSpec> | null;
}

export interface RolloutUpdate {
  phase?: RolloutPhase;
  direction?: RolloutDirection;
  step?: string;
  reason?: string | null;
  stepIndex?: number;
  stepStartedAt?: number;
  pausedAt?: number | null;
  gate?: string | null;
  warmRevision?: number | null;
  warmUntil?: number | null;
  report?: unknown;
}

/**
 * A rollout as the cluster keeps it (cluster apps): its record without the local id, under a key
 * that is the same on every machine, with its hook runs and finished analysis runs.
 */
export interface ClusterRollout extends Omit<RolloutRecord, 'id'> {
  key: string;
  hookRuns: Omit<HookRunRecord, 'rolloutId'>[];
  analysisRuns: Omit<AnalysisRunRecord, 'rolloutId'>[];
}

/** What a cluster keeps of an app, so that any machine can drive it on: revisions, the stable one, recent rollouts. */
export interface ClusterAppState {
  app: string;
  stableRevision: number | null;
  revisions: RevisionRecord[];
  /** Oldest first. */
  rollouts: ClusterRollout[];
}

/** What taking an app's state from the cluster changed locally. */
export interface ClusterImport {
  revisions: number;
  rollouts: number;
  /** Local rollouts the cluster's state overruled, with why. */
  superseded: { rolloutId: number; reason: string }[];
}

/** Durable state of the control plane. Every method is one transaction. */
export interface Store {
  listApps(): { name: string; stableRevision: number | null }[];
  stableRevision(app: string): number | null;
  setStableRevision(app: string, revision: number | null): void;
  /** `cutover remove`: the app leaves `listApps`; its revisions, rollouts, instances and events are kept (history, reports). */
  deleteApp(app: string): void;
  /** How many instances the app runs (set by a deploy or `cutover scale`); null when never set: its revision's spec says. */
  replicasOf(app: string): number | null;
  setReplicas(app: string, replicas: number): void;
  setTraffic(app: string, split: TrafficShare[]): void;
  traffic(app: string): TrafficShare[];

  latestRevision(app: string): RevisionRecord | null;
  getRevision(app: string, number: number): RevisionRecord | null;
  listRevisions(app: string): RevisionRecord[];
  /** A number that changes whenever a revision's spec is written through this store (what depends on every spec may cache until then). */
  revisionsVersion(): number;
  /** Stores a new revision numbered one above the latest. */
  /** `overrides`: the `--set` overrides the revision was deployed with, kept to show them and to tell when a deploy drops one. */
  addRevision(app: string, spec: AppSpec, specHash: string, release?: ReleaseRecord | null, overrides?: readonly string[]): RevisionRecord;
  /** Records what became of a revision's release (built, failed, pruned). */
  setRelease(app: string, revision: number, release: ReleaseRecord): void;

  /** Fails with code ROLLOUT_ALREADY_ACTIVE when the app has a progressing or paused rollout. */
  createRollout(rollout: NewRollout): RolloutRecord;
  getRollout(id: number): RolloutRecord | null;
  activeRollout(app: string): RolloutRecord | null;
  listRollouts(app: string, limit: number): RolloutRecord[];
  updateRollout(id: number, update: RolloutUpdate): RolloutRecord;

  upsertInstance(instance: InstanceRecord): void;
  /** Live instances; with `includeStopped`, also those stopped or failed since `sinceMs` (all when omitted). */
  listInstances(app?: string, options?: { includeStopped?: boolean; sinceMs?: number }): InstanceRecord[];

  upsertHookRun(run: HookRunRecord): void;
  /** Hook runs in the order they started, by rollout or by app, optionally only in some states. */
  listHookRuns(query: { rolloutId?: number; app?: string; states?: readonly HookRunState[] }): HookRunRecord[];

  upsertAnalysisRun(run: AnalysisRunRecord): void;
  listAnalysisRuns(query: { rolloutId: number }): AnalysisRunRecord[];
  addAnalysisMeasurement(measurement: AnalysisMeasurementRecord): void;
  /** Measurements in the order they were taken. */
  listAnalysisMeasurements(query: { rolloutId: number; pointKey?: string; template?: string }): AnalysisMeasurementRecord[];

  addEvent(app: string, rolloutId: number | null, kind: string, message: string): EventRecord;
  listEvents(query: { app?: string; rolloutId?: number; afterId?: number; limit?: number; kinds?: readonly string[] }): EventRecord[];

  /**
   * Adds what the data plane counted since the last poll to the wall-clock second `atMs` falls
   * in, with the cursors it was counted from, in one transaction: a crash keeps both or neither.
   */
  addTraffic(atMs: number, delta: SampleDelta): void;
  /** Per revision, what was counted in the seconds from `fromMs` (included) to `untilMs` (excluded), and the unrouted requests. */
  trafficBetween(app: string, fromMs: number, untilMs: number): { revisions: RevisionCounts[]; unrouted: number };
  /** Records a traffic plan about to be pushed and returns its generation (unique across restarts). */
  addPlanGeneration(app: string, atMs: number, shares: readonly TrafficShare[]): number;
  /** The generation in force at `sinceMs`, then every later one of the app, oldest first. */
  planGenerationsSince(app: string, sinceMs: number): PlanGeneration[];
  /** Per generation (among `generations`) and revision, what was counted in the seconds from `fromMs` to `untilMs`. */
  trafficOfGenerations(app: string, generations: readonly number[], fromMs: number, untilMs: number): RevisionCounts[];
  /** The raw counts read last from each data-plane process, per instance. */
  listMeasurementCursors(): MeasurementCursor[];
  /** Since when the counts of a data-plane process still on record have been kept (wall-clock ms); null: never. */
  measuringSince(): number | null;

  /**
   * The cluster keys of the app's rollouts among `rolloutIds`. With `newKey`, those without one
   * get one, kept from then on; without, they are left out (never written to or read from a cluster).
   */
  clusterRolloutKeys(app: string, rolloutIds: readonly number[], newKey?: () => string): Map<number, string>;
  /**
   * Takes an app's state as the cluster recorded it, in one transaction: revisions (the cluster's
   * wins where a number differs), the stable revision, and rollouts by key (new ones get a local
   * id; known ones take the cluster's progress). A local active rollout the cluster knows nothing
   * of ends `failed` when the cluster moved on (another active rollout, another stable revision).
   */
  importClusterState(state: ClusterAppState): ClusterImport;

  /**
   * Forgets the oldest history beyond the limits: events, stopped or failed instances, and
   * traffic seconds (with the cursors of processes not heard of) older than `keepTrafficMs`.
   * Returns the log paths of the instances it forgot, for the caller to delete.
   */
  prune(limits: { keepEvents: number; keepEndedInstances: number; keepTrafficMs?: number }): string[];

  close(): void;
}

/** The error for a second rollout of an app while one is progressing or paused. */
export function rolloutAlreadyActive(active: RolloutRecord): CutoverError {
  return new CutoverError(
    'ROLLOUT_ALREADY_ACTIVE',
    `app "${active.app}" already has rollout ${active.id} ${active.phase} (revision ${active.fromRevision ?? '-'} → ${active.toRevision})`,
    {
      hint: `Wait for it to finish (cutover status ${active.app}), or stop it with: cutover rollback ${active.app}`,
    },
  );
}
