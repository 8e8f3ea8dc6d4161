import Database from 'better-sqlite3';
import { CutoverError } from '../errors.js';
import type { AnalysisTemplateSpec, AppSpec, HookPoint, HooksSpec, StrategySpec } from '../model/spec.js';
import type { InstanceState, RolloutDirection, RolloutPhase, StrategyName } from '../model/rollout.js';
import { MIGRATIONS } from './migrations.js';
import { addInto, emptyCounts, type MeasurementCursor, type RevisionCounts, type SampleDelta } from '../analysis/measurement-history.js';
import type { EndpointMeasurement } from '../proxy/request-meter.js';

/** The revision under which traffic_seconds keeps the requests no instance could take (revisions start at 1). */
const UNROUTED_REVISION = 0;
import {
  rolloutAlreadyActive,
  type AnalysisMeasurementRecord,
  type AnalysisRunRecord,
  type AnalysisRunState,
  type ClusterAppState,
  type ClusterImport,
  type ClusterRollout,
  type EventRecord,
  type HookRunRecord,
  type HookRunState,
  type InstanceRecord,
  type NewRollout,
  type RevisionRecord,
  type RolloutRecord,
  type RolloutTrigger,
  type RolloutUpdate,
  type Store,
  type TrafficShare,
} from './store.js';

interface RolloutRow {
  id: number;
  app: string;
  strategy: string;
  trigger: string;
  from_revision: number | null;
  to_revision: number;
  phase: string;
  direction: string;
  step: string;
  reason: string | null;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
  strategy_spec: string | null;
  step_index: number;
  step_started_at: number | null;
  paused_at: number | null;
  gate: string | null;
  warm_revision: number | null;
  warm_until: number | null;
  hooks_spec: string | null;
  skipped_hooks: string | null;
  analysis_spec: string | null;
  report: string | null;
}

interface AnalysisRunRow {
  rollout_id: number;
  app: string;
  point_key: string;
  template: string;
  state: string;
  reason: string | null;
  started_at: number;
  ended_at: number | null;
}

interface AnalysisMeasurementRow {
  id: number;
  rollout_id: number;
  app: string;
  point_key: string;
  template: string;
  at: number;
  window_ms: number;
  value: number | null;
  sample_size: number | null;
  baseline_value: number | null;
  baseline_sample_size: number | null;
  result: string;
  sentence: string;
}

interface HookRunRow {
  rollout_id: number;
  app: string;
  point: string;
  point_key: string;
  hook_index: number;
  description: string;
  state: string;
  attempts: number;
  pid: number | null;
  identity: string | null;
  reason: string | null;
  started_at: number;
  ended_at: number | null;
}

interface InstanceRow {
  id: string;
  app: string;
  revision: number;
  pid: number | null;
  identity: string | null;
  rollout_id: number | null;
  port: number;
  state: string;
  reason: string | null;
  log_path: string;
  started_at: number;
  ready_at: number | null;
  stopped_at: number | null;
}

interface RevisionRow {
  app: string;
  number: number;
  spec: string;
  spec_hash: string;
  created_at: number;
}

const ACTIVE = `phase IN ('progressing', 'paused')`;
/** How long a write waits for another writer's lock. Transactions that read then write take the lock first (BEGIN IMMEDIATE), so the wait applies to them too. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * The store on SQLite: WAL so readers never wait for the writer, a bounded journal, and
 * numbered migrations. Wall-clock time here is for display only.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;

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
    const rows = this.db.prepare('SELECT name, stable_revision FROM apps ORDER BY name').all() as { name: string; stable_revision: number | null }[];
    return rows.map((r) => ({ name: r.name, stableRevision: r.stable_revision }));
  }

  stableRevision(app: string): number | null {
    const row = this.db.prepare('SELECT stable_revision FROM apps WHERE name = ?').get(app) as { stable_revision: number | null } | undefined;
    return row?.stable_revision ?? null;
  }

  setStableRevision(app: string, revision: number | null): void {
    this.db
      .prepare(
        'INSERT INTO apps (name, stable_revision, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET stable_revision = excluded.stable_revision, updated_at = excluded.updated_at',
      )
      .run(app, revision, this.now());
  }

  setTraffic(app: string, split: TrafficShare[]): void {
    this.db.prepare('UPDATE apps SET traffic = ? WHERE name = ?').run(JSON.stringify(split), app);
  }

  traffic(app: string): TrafficShare[] {
    const row = this.db.prepare('SELECT traffic FROM apps WHERE name = ?').get(app) as { traffic: string | null } | undefined;
    return row?.traffic ? (JSON.parse(row.traffic) as TrafficShare[]) : [];
  }

  latestRevision(app: string): RevisionRecord | null {
    const row = this.db.prepare('SELECT * FROM revisions WHERE app = ? ORDER BY number DESC LIMIT 1').get(app) as RevisionRow | undefined;
    return row ? toRevision(row) : null;
  }

  getRevision(app: string, number: number): RevisionRecord | null {
    const row = this.db.prepare('SELECT * FROM revisions WHERE app = ? AND number = ?').get(app, number) as RevisionRow | undefined;
    return row ? toRevision(row) : null;
  }

  listRevisions(app: string): RevisionRecord[] {
    return (this.db.prepare('SELECT * FROM revisions WHERE app = ? ORDER BY number').all(app) as RevisionRow[]).map(toRevision);
  }

  addRevision(app: string, spec: AppSpec, specHash: string): RevisionRecord {
    return this.db
      .transaction(() => {
        const latest = this.latestRevision(app);
        const number = (latest?.number ?? 0) + 1;
        const createdAt = this.now();
        this.db
          .prepare('INSERT INTO revisions (app, number, spec, spec_hash, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(app, number, JSON.stringify(spec), specHash, createdAt);
        this.db.prepare('INSERT INTO apps (name, stable_revision, updated_at) VALUES (?, NULL, ?) ON CONFLICT(name) DO NOTHING').run(app, createdAt);
        return { app, number, spec, specHash, createdAt };
      })
      .immediate();
  }

  createRollout(rollout: NewRollout): RolloutRecord {
    const active = this.activeRollout(rollout.app);
    if (active) throw rolloutAlreadyActive(active);
    const at = this.now();
    try {
      const result = this.db
        .prepare(
          `INSERT INTO rollouts (app, strategy, strategy_spec, trigger, from_revision, to_revision, phase, direction, step, started_at, updated_at, step_started_at, hooks_spec, skipped_hooks, analysis_spec)
           VALUES (?, ?, ?, ?, ?, ?, 'progressing', 'forward', 'starting', ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          rollout.app,
          rollout.strategy,
          JSON.stringify(rollout.strategySpec),
          rollout.trigger,
          rollout.fromRevision,
          rollout.toRevision,
          at,
          at,
          at,
          rollout.hooks ? JSON.stringify(rollout.hooks) : null,
          JSON.stringify(rollout.skippedHooks ?? []),
          rollout.analysis && Object.keys(rollout.analysis).length ? JSON.stringify(rollout.analysis) : null,
        );
      return this.getRollout(Number(result.lastInsertRowid))!;
    } catch (error) {
      // Another writer won the race: the unique index is the last word.
      const winner = this.activeRollout(rollout.app);
      if (winner) throw rolloutAlreadyActive(winner);
      throw error;
    }
  }

  getRollout(id: number): RolloutRecord | null {
    const row = this.db.prepare('SELECT * FROM rollouts WHERE id = ?').get(id) as RolloutRow | undefined;
    return row ? toRollout(row) : null;
  }

  activeRollout(app: string): RolloutRecord | null {
    const row = this.db.prepare(`SELECT * FROM rollouts WHERE app = ? AND ${ACTIVE}`).get(app) as RolloutRow | undefined;
    return row ? toRollout(row) : null;
  }

  listRollouts(app: string, limit: number): RolloutRecord[] {
    return (this.db.prepare('SELECT * FROM rollouts WHERE app = ? ORDER BY id DESC LIMIT ?').all(app, limit) as RolloutRow[]).map(toRollout);
  }

  updateRollout(id: number, update: RolloutUpdate): RolloutRecord {
    const current = this.getRollout(id);
    if (!current) throw new CutoverError('ROLLOUT_NOT_FOUND', `rollout ${id} does not exist`);
    const phase = update.phase ?? current.phase;
    const isEnding = phase !== 'progressing' && phase !== 'paused';
    const at = this.now();
    const pick = <K extends keyof RolloutUpdate & keyof RolloutRecord>(key: K): RolloutRecord[K] =>
      update[key] === undefined ? current[key] : (update[key] as RolloutRecord[K]);
    this.db
      .prepare(
        `UPDATE rollouts SET phase = ?, direction = ?, step = ?, reason = ?, updated_at = ?, ended_at = ?,
           step_index = ?, step_started_at = ?, paused_at = ?, gate = ?, warm_revision = ?, warm_until = ?, report = ? WHERE id = ?`,
      )
      .run(
        phase,
        pick('direction'),
        pick('step'),
        pick('reason'),
        at,
        isEnding ? (current.endedAt ?? at) : null,
        pick('stepIndex'),
        pick('stepStartedAt'),
        pick('pausedAt'),
        // A rollout that ended waits at no gate.
        isEnding ? null : pick('gate'),
        pick('warmRevision'),
        pick('warmUntil'),
        update.report === undefined ? (current.report === null ? null : JSON.stringify(current.report)) : JSON.stringify(update.report),
        id,
      );
    return this.getRollout(id)!;
  }

  upsertInstance(i: InstanceRecord): void {
    this.db
      .prepare(
        `INSERT INTO instances (id, app, revision, pid, identity, rollout_id, port, state, reason, log_path, started_at, ready_at, stopped_at)
         VALUES (@id, @app, @revision, @pid, @identity, @rolloutId, @port, @state, @reason, @logPath, @startedAt, @readyAt, @stoppedAt)
         ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, port = excluded.port, identity = excluded.identity, state = excluded.state, reason = excluded.reason,
           ready_at = excluded.ready_at, stopped_at = excluded.stopped_at`,
      )
      .run(i);
  }

  listInstances(app?: string, options: { includeStopped?: boolean; sinceMs?: number } = {}): InstanceRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (app !== undefined) {
      where.push('app = ?');
      params.push(app);
    }
    if (!options.includeStopped) where.push(`state NOT IN ('stopped', 'failed')`);
    else if (options.sinceMs !== undefined) {
      where.push(`(state NOT IN ('stopped', 'failed') OR started_at >= ?)`);
      params.push(options.sinceMs);
    }
    const sql = `SELECT * FROM instances ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at, id`;
    return (this.db.prepare(sql).all(...params) as InstanceRow[]).map(toInstance);
  }

  upsertHookRun(run: HookRunRecord): void {
    this.db
      .prepare(
        `INSERT INTO hook_runs (rollout_id, app, point, point_key, hook_index, description, state, attempts, pid, identity, reason, started_at, ended_at)
         VALUES (@rolloutId, @app, @point, @pointKey, @index, @description, @state, @attempts, @pid, @identity, @reason, @startedAt, @endedAt)
         ON CONFLICT(rollout_id, point_key, hook_index) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, pid = excluded.pid,
           identity = excluded.identity, reason = excluded.reason, started_at = excluded.started_at, ended_at = excluded.ended_at`,
      )
      .run(run);
  }

  listHookRuns(query: { rolloutId?: number; app?: string; states?: readonly HookRunState[] }): HookRunRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.rolloutId !== undefined) {
      where.push('rollout_id = ?');
      params.push(query.rolloutId);
    }
    if (query.app !== undefined) {
      where.push('app = ?');
      params.push(query.app);
    }
    if (query.states) {
      where.push(`state IN (${query.states.map(() => '?').join(', ') || "''"})`);
      params.push(...query.states);
    }
    const sql = `SELECT * FROM hook_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid`;
    return (this.db.prepare(sql).all(...params) as HookRunRow[]).map(toHookRun);
  }

  upsertAnalysisRun(run: AnalysisRunRecord): void {
    this.db
      .prepare(
        `INSERT INTO analysis_runs (rollout_id, app, point_key, template, state, reason, started_at, ended_at)
         VALUES (@rolloutId, @app, @pointKey, @template, @state, @reason, @startedAt, @endedAt)
         ON CONFLICT(rollout_id, point_key, template) DO UPDATE SET state = excluded.state, reason = excluded.reason, started_at = excluded.started_at, ended_at = excluded.ended_at`,
      )
      .run(run);
  }

  listAnalysisRuns(query: { rolloutId: number }): AnalysisRunRecord[] {
    const rows = this.db.prepare('SELECT * FROM analysis_runs WHERE rollout_id = ? ORDER BY rowid').all(query.rolloutId) as AnalysisRunRow[];
    return rows.map((row) => ({
      rolloutId: row.rollout_id,
      app: row.app,
      pointKey: row.point_key,
      template: row.template,
      state: row.state as AnalysisRunState,
      reason: row.reason,
      startedAt: row.started_at,
      endedAt: row.ended_at,
    }));
  }

  addAnalysisMeasurement(m: AnalysisMeasurementRecord): void {
    this.db
      .prepare(
        `INSERT INTO analysis_measurements (rollout_id, app, point_key, template, at, window_ms, value, sample_size, baseline_value, baseline_sample_size, result, sentence)
         VALUES (@rolloutId, @app, @pointKey, @template, @at, @windowMs, @value, @sampleSize, @baselineValue, @baselineSampleSize, @result, @sentence)`,
      )
      .run({ ...m, id: undefined });
  }

  listAnalysisMeasurements(query: { rolloutId: number; pointKey?: string; template?: string }): AnalysisMeasurementRecord[] {
    const where = ['rollout_id = ?'];
    const params: unknown[] = [query.rolloutId];
    if (query.pointKey !== undefined) {
      where.push('point_key = ?');
      params.push(query.pointKey);
    }
    if (query.template !== undefined) {
      where.push('template = ?');
      params.push(query.template);
    }
    const rows = this.db.prepare(`SELECT * FROM analysis_measurements WHERE ${where.join(' AND ')} ORDER BY id`).all(...params) as AnalysisMeasurementRow[];
    return rows.map((r) => ({
      id: r.id,
      rolloutId: r.rollout_id,
      app: r.app,
      pointKey: r.point_key,
      template: r.template,
      at: r.at,
      windowMs: r.window_ms,
      value: r.value,
      sampleSize: r.sample_size,
      baselineValue: r.baseline_value,
      baselineSampleSize: r.baseline_sample_size,
      result: r.result as AnalysisMeasurementRecord['result'],
      sentence: r.sentence,
    }));
  }

  addEvent(app: string, rolloutId: number | null, kind: string, message: string): EventRecord {
    const at = this.now();
    const result = this.db.prepare('INSERT INTO events (at, app, rollout_id, kind, message) VALUES (?, ?, ?, ?, ?)').run(at, app, rolloutId, kind, message);
    return { id: Number(result.lastInsertRowid), at, app, rolloutId, kind, message };
  }

  listEvents(query: { app?: string; rolloutId?: number; afterId?: number; limit?: number }): EventRecord[] {
    const where = ['id > ?'];
    const params: unknown[] = [query.afterId ?? 0];
    if (query.app !== undefined) {
      where.push('app = ?');
      params.push(query.app);
    }
    if (query.rolloutId !== undefined) {
      where.push('rollout_id = ?');
      params.push(query.rolloutId);
    }
    params.push(query.limit ?? 500);
    const rows = this.db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(...params) as {
      id: number;
      at: number;
      app: string;
      rollout_id: number | null;
      kind: string;
      message: string;
    }[];
    return rows.map((r) => ({ id: r.id, at: r.at, app: r.app, rolloutId: r.rollout_id, kind: r.kind, message: r.message }));
  }

  addTraffic(atMs: number, delta: SampleDelta): void {
    if (delta.revisions.length === 0 && delta.unrouted.size === 0 && delta.cursors.length === 0) return;
    const second = Math.floor(atMs / 1000);
    const read = this.db.prepare('SELECT counts, latency_buckets, latency_sum FROM traffic_seconds WHERE app = ? AND second = ? AND revision = ?');
    const write = this.db.prepare(
      'INSERT OR REPLACE INTO traffic_seconds (app, revision, second, counts, latency_buckets, latency_sum) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const cursor = this.db.prepare(
      'INSERT INTO measurement_cursors (source, instance, raw, first_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(source, instance) DO UPDATE SET raw = excluded.raw, updated_at = excluded.updated_at',
    );
    const add = (change: RevisionCounts): void => {
      const row = read.get(change.app, second, change.revision) as { counts: string; latency_buckets: string; latency_sum: number } | undefined;
      const merged = row ? { ...change, counts: [...change.counts], latencyBuckets: [...change.latencyBuckets] } : change;
      if (row) addInto(merged, JSON.parse(row.counts) as number[], JSON.parse(row.latency_buckets) as number[], row.latency_sum);
      write.run(change.app, change.revision, second, JSON.stringify(merged.counts), JSON.stringify(merged.latencyBuckets), merged.latencySumSeconds);
    };
    this.db
      .transaction(() => {
        for (const change of delta.revisions) add(change);
        for (const [app, count] of delta.unrouted) add({ ...emptyCounts(app, UNROUTED_REVISION), counts: [count] });
        for (const c of delta.cursors) {
          for (const m of c.endpoints) cursor.run(c.source, m.instance, JSON.stringify(m), atMs, atMs);
          if (c.unrouted !== null) cursor.run(c.source, '', JSON.stringify(c.unrouted), atMs, atMs);
        }
      })
      .immediate();
  }

  trafficBetween(app: string, fromMs: number, untilMs: number): { revisions: RevisionCounts[]; unrouted: number } {
    const rows = this.db
      .prepare('SELECT revision, counts, latency_buckets, latency_sum FROM traffic_seconds WHERE app = ? AND second >= ? AND second < ?')
      .all(app, Math.ceil(fromMs / 1000), Math.ceil(untilMs / 1000)) as { revision: number; counts: string; latency_buckets: string; latency_sum: number }[];
    const byRevision = new Map<number, RevisionCounts>();
    let unrouted = 0;
    for (const row of rows) {
      const counts = JSON.parse(row.counts) as number[];
      if (row.revision === UNROUTED_REVISION) {
        unrouted += counts[0] ?? 0;
        continue;
      }
      const sum = byRevision.get(row.revision) ?? emptyCounts(app, row.revision);
      addInto(sum, counts, JSON.parse(row.latency_buckets) as number[], row.latency_sum);
      byRevision.set(row.revision, sum);
    }
    return { revisions: [...byRevision.values()], unrouted };
  }

  listMeasurementCursors(): MeasurementCursor[] {
    const rows = this.db.prepare('SELECT source, instance, raw FROM measurement_cursors ORDER BY source, instance').all() as {
      source: string;
      instance: string;
      raw: string;
    }[];
    const bySource = new Map<string, MeasurementCursor>();
    for (const row of rows) {
      const cursor = bySource.get(row.source) ?? { source: row.source, endpoints: [], unrouted: null };
      if (row.instance === '') cursor.unrouted = JSON.parse(row.raw) as Record<string, number>;
      else cursor.endpoints.push(JSON.parse(row.raw) as EndpointMeasurement);
      bySource.set(row.source, cursor);
    }
    return [...bySource.values()];
  }

  measuringSince(): number | null {
    return (this.db.prepare('SELECT MIN(first_at) AS since FROM measurement_cursors').get() as { since: number | null }).since;
  }

  clusterRolloutKeys(app: string, rolloutIds: readonly number[], newKey?: () => string): Map<number, string> {
    const read = this.db.prepare('SELECT key FROM cluster_rollout_keys WHERE rollout_id = ?');
    const keys = new Map<number, string>();
    const missing: number[] = [];
    for (const id of rolloutIds) {
      const key = (read.get(id) as { key: string } | undefined)?.key;
      if (key === undefined) missing.push(id);
      else keys.set(id, key);
    }
    if (missing.length === 0 || !newKey) return keys;
    const insert = this.db.prepare('INSERT INTO cluster_rollout_keys (rollout_id, app, key) VALUES (?, ?, ?)');
    this.db
      .transaction(() => {
        for (const id of missing) {
          const key = newKey();
          insert.run(id, app, key);
          keys.set(id, key);
        }
      })
      .immediate();
    return keys;
  }

  importClusterState(state: ClusterAppState): ClusterImport {
    return this.db
      .transaction(() => {
        const { app } = state;
        const result: ClusterImport = { revisions: 0, rollouts: 0, superseded: [] };
        const replaced = new Set<number>();
        const upsertRevision = this.db.prepare(
          `INSERT INTO revisions (app, number, spec, spec_hash, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(app, number) DO UPDATE SET spec = excluded.spec, spec_hash = excluded.spec_hash, created_at = excluded.created_at`,
        );
        for (const revision of state.revisions) {
          const local = this.getRevision(app, revision.number);
          if (local?.specHash === revision.specHash) continue;
          if (local) replaced.add(revision.number);
          upsertRevision.run(app, revision.number, JSON.stringify(revision.spec), revision.specHash, revision.createdAt);
          result.revisions++;
        }
        this.db
          .prepare(
            'INSERT INTO apps (name, stable_revision, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET stable_revision = excluded.stable_revision, updated_at = excluded.updated_at',
          )
          .run(app, state.stableRevision, this.now());

        const idOfKey = this.db.prepare('SELECT rollout_id FROM cluster_rollout_keys WHERE app = ? AND key = ?');
        const localId = (key: string): number | undefined => (idOfKey.get(app, key) as { rollout_id: number } | undefined)?.rollout_id;
        const localActive = this.activeRollout(app);
        if (localActive) {
          const reason = supersedingReason(localActive, state, replaced, (key) => localId(key) === localActive.id);
          if (reason) {
            this.updateRollout(localActive.id, { phase: 'failed', reason: `${reason}; deploy again` });
            result.superseded.push({ rolloutId: localActive.id, reason });
          }
        }
        const insertKey = this.db.prepare('INSERT INTO cluster_rollout_keys (rollout_id, app, key) VALUES (?, ?, ?)');
        for (const rollout of state.rollouts) {
          const known = localId(rollout.key);
          const current = known === undefined ? null : this.getRollout(known);
          const isSame = current !== null && current.updatedAt === rollout.updatedAt && current.phase === rollout.phase;
          const id = current ? current.id : this.writeRolloutRow(rollout, null);
          if (!current) insertKey.run(id, app, rollout.key);
          else if (!isSame) this.writeRolloutRow(rollout, id);
          if (!isSame) result.rollouts++;
          for (const run of rollout.hookRuns) {
            // A hook that was running elsewhere is not this machine's process: the rollout holds at its gate, as after a crash.
            const isElsewhere = run.state === 'running';
            this.upsertHookRun({
              ...run,
              rolloutId: id,
              pid: null,
              identity: null,
              ...(isElsewhere ? { state: 'interrupted', reason: 'it was running on another cutover when that one stopped driving the app' } : {}),
            });
          }
          for (const run of rollout.analysisRuns) this.upsertAnalysisRun({ ...run, rolloutId: id });
        }
        return result;
      })
      .immediate();
  }

  /** Writes every column of a rollout from the cluster: over row `id`, or as a new row (returns its id). */
  private writeRolloutRow(r: ClusterRollout, id: number | null): number {
    const values = [
      r.app,
      r.strategy,
      r.strategySpec ? JSON.stringify(r.strategySpec) : null,
      r.trigger,
      r.fromRevision,
      r.toRevision,
      r.phase,
      r.direction,
      r.step,
      r.reason,
      r.startedAt,
      r.updatedAt,
      r.endedAt,
      r.stepIndex,
      r.stepStartedAt,
      r.pausedAt,
      r.gate,
      r.warmRevision,
      r.warmUntil,
      r.hooks ? JSON.stringify(r.hooks) : null,
      JSON.stringify(r.skippedHooks),
      r.analysis ? JSON.stringify(r.analysis) : null,
      r.report === null ? null : JSON.stringify(r.report),
    ];
    const columns =
      'app, strategy, strategy_spec, trigger, from_revision, to_revision, phase, direction, step, reason, started_at, updated_at, ended_at, step_index, step_started_at, paused_at, gate, warm_revision, warm_until, hooks_spec, skipped_hooks, analysis_spec, report';
    if (id !== null) {
      this.db.prepare(`UPDATE rollouts SET (${columns}) = (${values.map(() => '?').join(', ')}) WHERE id = ?`).run(...values, id);
      return id;
    }
    return Number(this.db.prepare(`INSERT INTO rollouts (${columns}) VALUES (${values.map(() => '?').join(', ')})`).run(...values).lastInsertRowid);
  }

  prune(limits: { keepEvents: number; keepEndedInstances: number; keepTrafficMs?: number }): string[] {
    return this.db
      .transaction(() => {
        if (limits.keepTrafficMs !== undefined) {
          const before = this.now() - limits.keepTrafficMs;
          this.db.prepare('DELETE FROM traffic_seconds WHERE second < ?').run(Math.floor(before / 1000));
          this.db
            .prepare('DELETE FROM measurement_cursors WHERE source IN (SELECT source FROM measurement_cursors GROUP BY source HAVING MAX(updated_at) < ?)')
            .run(before);
        }
        this.db.prepare('DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)').run(limits.keepEvents);
        const ended = `state IN ('stopped', 'failed') AND stopped_at IS NOT NULL`;
        const forgotten = this.db
          .prepare(`SELECT id, log_path FROM instances WHERE ${ended} ORDER BY stopped_at DESC LIMIT -1 OFFSET ?`)
          .all(limits.keepEndedInstances) as { id: string; log_path: string }[];
        const remove = this.db.prepare('DELETE FROM instances WHERE id = ?');
        for (const row of forgotten) remove.run(row.id);
        return forgotten.map((row) => row.log_path);
      })
      .immediate();
  }

  close(): void {
    this.db.close();
  }
}

function toRevision(row: RevisionRow): RevisionRecord {
  return { app: row.app, number: row.number, spec: JSON.parse(row.spec) as AppSpec, specHash: row.spec_hash, createdAt: row.created_at };
}

function toRollout(row: RolloutRow): RolloutRecord {
  return {
    id: row.id,
    app: row.app,
    strategy: row.strategy as StrategyName,
    trigger: row.trigger as RolloutTrigger,
    fromRevision: row.from_revision,
    toRevision: row.to_revision,
    phase: row.phase as RolloutPhase,
    direction: row.direction as RolloutDirection,
    step: row.step,
    reason: row.reason,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
    strategySpec: row.strategy_spec ? (JSON.parse(row.strategy_spec) as StrategySpec) : null,
    stepIndex: row.step_index,
    stepStartedAt: row.step_started_at ?? row.started_at,
    pausedAt: row.paused_at,
    gate: row.gate,
    warmRevision: row.warm_revision,
    warmUntil: row.warm_until,
    hooks: row.hooks_spec ? (JSON.parse(row.hooks_spec) as HooksSpec) : null,
    skippedHooks: row.skipped_hooks ? (JSON.parse(row.skipped_hooks) as HookPoint[]) : [],
    analysis: row.analysis_spec ? (JSON.parse(row.analysis_spec) as Record<string, AnalysisTemplateSpec>) : null,
    report: row.report ? (JSON.parse(row.report) as unknown) : null,
  };
}

function toHookRun(row: HookRunRow): HookRunRecord {
  return {
    rolloutId: row.rollout_id,
    app: row.app,
    point: row.point as HookPoint,
    pointKey: row.point_key,
    index: row.hook_index,
    description: row.description,
    state: row.state as HookRunState,
    attempts: row.attempts,
    pid: row.pid,
    identity: row.identity,
    reason: row.reason,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

function toInstance(row: InstanceRow): InstanceRecord {
  return {
    id: row.id,
    app: row.app,
    revision: row.revision,
    pid: row.pid,
    identity: row.identity,
    rolloutId: row.rollout_id,
    port: row.port,
    state: row.state as InstanceState,
    reason: row.reason,
    logPath: row.log_path,
    startedAt: row.started_at,
    readyAt: row.ready_at,
    stoppedAt: row.stopped_at,
  };
}

/**
 * Why the cluster's state overrules a local active rollout, or null when it may go on: the
 * cluster runs another rollout, or its stable revision or the target's spec moved meanwhile.
 */
function supersedingReason(
  local: RolloutRecord,
  state: ClusterAppState,
  replacedRevisions: ReadonlySet<number>,
  isLocal: (key: string) => boolean,
): string | null {
  const mine = state.rollouts.find((r) => isLocal(r.key));
  if (mine) return null; // The cluster knows this rollout: the import brings its progress.
  const active = state.rollouts.find((r) => r.phase === 'progressing' || r.phase === 'paused');
  if (active)
    return `another cutover drives rollout ${active.key} (revision ${active.fromRevision ?? '-'} → ${active.toRevision}) of "${local.app}" on the cluster`;
  if (local.fromRevision !== state.stableRevision)
    return `the cluster's stable revision of "${local.app}" is ${state.stableRevision ?? 'none'} now, not ${local.fromRevision ?? 'none'}: another cutover drove the app meanwhile`;
  if (replacedRevisions.has(local.toRevision)) return `revision ${local.toRevision} of "${local.app}" is another spec on the cluster`;
  return null;
}
