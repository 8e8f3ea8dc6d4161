import type Database from 'better-sqlite3';
import type { HookPoint } from '../model/app-spec.js';
import type { HookRunRecord, HookRunState } from '../model/records.js';

/** Hook runs, one row per rollout, point and hook, in the `hook_runs` table. */

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

export function upsertHookRun(db: Database.Database, run: HookRunRecord): void {
  db.prepare(
    `INSERT INTO hook_runs (rollout_id, app, point, point_key, hook_index, description, state, attempts, pid, identity, reason, started_at, ended_at)
       VALUES (@rolloutId, @app, @point, @pointKey, @index, @description, @state, @attempts, @pid, @identity, @reason, @startedAt, @endedAt)
       ON CONFLICT(rollout_id, point_key, hook_index) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, pid = excluded.pid,
         identity = excluded.identity, reason = excluded.reason, started_at = excluded.started_at, ended_at = excluded.ended_at`,
  ).run(run);
}

export function listHookRuns(db: Database.Database, query: { rolloutId?: number; app?: string; states?: readonly HookRunState[] }): HookRunRecord[] {
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
  return (db.prepare(sql).all(...params) as HookRunRow[]).map(toHookRun);
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
