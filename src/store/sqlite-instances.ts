import type Database from 'better-sqlite3';
import type { InstanceState } from '../model/rollout.js';
import type { InstanceRecord } from '../model/records.js';

/** Instances of every app, live and ended, in the `instances` table. */

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

export function upsertInstance(db: Database.Database, i: InstanceRecord): void {
  db.prepare(
    `INSERT INTO instances (id, app, revision, pid, identity, rollout_id, port, state, reason, log_path, started_at, ready_at, stopped_at)
       VALUES (@id, @app, @revision, @pid, @identity, @rolloutId, @port, @state, @reason, @logPath, @startedAt, @readyAt, @stoppedAt)
       ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, port = excluded.port, identity = excluded.identity, state = excluded.state, reason = excluded.reason,
         ready_at = excluded.ready_at, stopped_at = excluded.stopped_at`,
  ).run(i);
}

export function listInstances(db: Database.Database, app?: string, options: { includeStopped?: boolean; sinceMs?: number } = {}): InstanceRecord[] {
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
  return (db.prepare(sql).all(...params) as InstanceRow[]).map(toInstance);
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
