import Database from 'better-sqlite3';
import { CutoverError } from '../errors.js';
import type { AppSpec } from '../model/app-spec.js';
import { MIGRATIONS } from './migrations.js';
import type { MeasurementCursor, RevisionCounts, SampleDelta } from '../model/measurements.js';
import type { ClusterAppState, ClusterImport, NewRollout, RolloutUpdate, Store } from './store.js';
import type {
  AnalysisMeasurementRecord,
  AnalysisRunRecord,
  EventRecord,
  HookRunRecord,
  HookRunState,
  InstanceRecord,
  RevisionRecord,
  ReleaseRecord,
  RolloutRecord,
  TrafficShare,
  PlanGeneration,
} from '../model/records.js';
import {
  addRevision,
  setRelease,
  getRevision,
  latestRevision,
  listApps,
  listRevisions,
  setStableRevision,
  setTraffic,
  stableRevision,
  replicasOf,
  setReplicas,
  deleteApp,
  traffic,
} from './sqlite-revisions.js';
import { activeRollout, createRollout, getRollout, listRollouts, updateRollout } from './sqlite-rollouts.js';
import { listInstances, upsertInstance } from './sqlite-instances.js';
import { listHookRuns, upsertHookRun } from './sqlite-hook-runs.js';
import { addAnalysisMeasurement, listAnalysisMeasurements, listAnalysisRuns, upsertAnalysisRun } from './sqlite-analysis.js';
import { addEvent, listEvents } from './sqlite-events.js';
import { addPlanGeneration, planGenerationsSince, trafficOfGenerations } from './sqlite-plan-generations.js';
import { addTraffic, listMeasurementCursors, measuringSince, trafficBetween } from './sqlite-traffic.js';
import { clusterRolloutKeys, importClusterState } from './sqlite-cluster-import.js';
import { prune } from './sqlite-prune.js';

/** How long a write waits for another writer's lock. Transactions that read then write take the lock first (BEGIN IMMEDIATE), so the wait applies to them too. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * The store on SQLite: WAL so readers never wait for the writer, a bounded journal, and
 * numbered migrations. Wall-clock time here is for display only. The SQL of each table family
 * lives in a `sqlite-*.ts` module of its own; this class opens the database and delegates.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  /** Bumped by every write of a revision's spec: this store is the database's only writer of revisions (the controller's). */
  private revisionWrites = 0;

  constructor(
    path: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Another writer (a second process, a person with sqlite3) may hold the lock a while: wait.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('journal_size_limit = 67108864');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new CutoverError('STORE_TOO_NEW', `the state database is at schema version ${current}, newer than this cutover knows (${MIGRATIONS.length})`, {
        hint: 'Upgrade cutover, or point --data-dir at another directory.',
      });
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.db
        .transaction(() => {
          this.db.exec(MIGRATIONS[version]!);
          this.db.pragma(`user_version = ${version + 1}`);
        })
        .immediate();
    }
  }

  listApps(): { name: string; stableRevision: number | null }[] {
    return listApps(this.db);
  }

  stableRevision(app: string): number | null {
    return stableRevision(this.db, app);
  }

  setStableRevision(app: string, revision: number | null): void {
    setStableRevision(this.db, this.now, app, revision);
  }

  deleteApp(app: string): void {
    deleteApp(this.db, app);
  }

  replicasOf(app: string): number | null {
    return replicasOf(this.db, app);
  }

  setReplicas(app: string, replicas: number): void {
    setReplicas(this.db, this.now, app, replicas);
  }

  setTraffic(app: string, split: TrafficShare[]): void {
    setTraffic(this.db, app, split);
  }

  traffic(app: string): TrafficShare[] {
    return traffic(this.db, app);
  }

  latestRevision(app: string): RevisionRecord | null {
    return latestRevision(this.db, app);
  }

  getRevision(app: string, number: number): RevisionRecord | null {
    return getRevision(this.db, app, number);
  }

  listRevisions(app: string): RevisionRecord[] {
    return listRevisions(this.db, app);
  }

  revisionsVersion(): number {
    return this.revisionWrites;
  }

  addRevision(app: string, spec: AppSpec, specHash: string, release: ReleaseRecord | null = null, overrides: readonly string[] = []): RevisionRecord {
    this.revisionWrites++;
    return addRevision(this.db, this.now, app, spec, specHash, release, overrides);
  }

  setRelease(app: string, revision: number, release: ReleaseRecord): void {
    setRelease(this.db, app, revision, release);
  }

  createRollout(rollout: NewRollout): RolloutRecord {
    return createRollout(this.db, this.now, rollout);
  }

  getRollout(id: number): RolloutRecord | null {
    return getRollout(this.db, id);
  }

  activeRollout(app: string): RolloutRecord | null {
    return activeRollout(this.db, app);
  }

  listRollouts(app: string, limit: number): RolloutRecord[] {
    return listRollouts(this.db, app, limit);
  }

  updateRollout(id: number, update: RolloutUpdate): RolloutRecord {
    return updateRollout(this.db, this.now, id, update);
  }

  upsertInstance(i: InstanceRecord): void {
    upsertInstance(this.db, i);
  }

  listInstances(app?: string, options: { includeStopped?: boolean; sinceMs?: number } = {}): InstanceRecord[] {
    return listInstances(this.db, app, options);
  }

  upsertHookRun(run: HookRunRecord): void {
    upsertHookRun(this.db, run);
  }

  listHookRuns(query: { rolloutId?: number; app?: string; states?: readonly HookRunState[] }): HookRunRecord[] {
    return listHookRuns(this.db, query);
  }

  upsertAnalysisRun(run: AnalysisRunRecord): void {
    upsertAnalysisRun(this.db, run);
  }

  listAnalysisRuns(query: { rolloutId: number }): AnalysisRunRecord[] {
    return listAnalysisRuns(this.db, query);
  }

  addAnalysisMeasurement(m: AnalysisMeasurementRecord): void {
    addAnalysisMeasurement(this.db, m);
  }

  listAnalysisMeasurements(query: { rolloutId: number; pointKey?: string; template?: string }): AnalysisMeasurementRecord[] {
    return listAnalysisMeasurements(this.db, query);
  }

  addEvent(app: string, rolloutId: number | null, kind: string, message: string): EventRecord {
    return addEvent(this.db, this.now, app, rolloutId, kind, message);
  }

  listEvents(query: { app?: string; rolloutId?: number; afterId?: number; limit?: number; kinds?: readonly string[] }): EventRecord[] {
    return listEvents(this.db, query);
  }

  addTraffic(atMs: number, delta: SampleDelta): void {
    addTraffic(this.db, atMs, delta);
  }

  trafficBetween(app: string, fromMs: number, untilMs: number): { revisions: RevisionCounts[]; unrouted: number } {
    return trafficBetween(this.db, app, fromMs, untilMs);
  }

  addPlanGeneration(app: string, atMs: number, shares: readonly TrafficShare[]): number {
    return addPlanGeneration(this.db, app, atMs, shares);
  }

  planGenerationsSince(app: string, sinceMs: number): PlanGeneration[] {
    return planGenerationsSince(this.db, app, sinceMs);
  }

  trafficOfGenerations(app: string, generations: readonly number[], fromMs: number, untilMs: number): RevisionCounts[] {
    return trafficOfGenerations(this.db, app, generations, fromMs, untilMs);
  }

  listMeasurementCursors(): MeasurementCursor[] {
    return listMeasurementCursors(this.db);
  }

  measuringSince(): number | null {
    return measuringSince(this.db);
  }

  clusterRolloutKeys(app: string, rolloutIds: readonly number[], newKey?: () => string): Map<number, string> {
    return clusterRolloutKeys(this.db, app, rolloutIds, newKey);
  }

  importClusterState(state: ClusterAppState): ClusterImport {
    this.revisionWrites++;
    return importClusterState(this.db, this.now, state);
  }

  prune(limits: { keepEvents: number; keepEndedInstances: number; keepTrafficMs?: number }): string[] {
    return prune(this.db, this.now, limits);
  }

  close(): void {
    this.db.close();
  }
}
