import type Database from 'better-sqlite3';
import type { EventRecord } from '../model/records.js';

/** The event log, in the `events` table. */

export function addEvent(db: Database.Database, now: () => number, app: string, rolloutId: number | null, kind: string, message: string): EventRecord {
  const at = now();
  const result = db.prepare('INSERT INTO events (at, app, rollout_id, kind, message) VALUES (?, ?, ?, ?, ?)').run(at, app, rolloutId, kind, message);
  return { id: Number(result.lastInsertRowid), at, app, rolloutId, kind, message };
}

export function listEvents(
  db: Database.Database,
  query: { app?: string; rolloutId?: number; afterId?: number; limit?: number; kinds?: readonly string[] },
): EventRecord[] {
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
  if (query.kinds !== undefined) {
    where.push(`kind IN (${query.kinds.map(() => '?').join(', ') || 'NULL'})`);
    params.push(...query.kinds);
  }
  params.push(query.limit ?? 500);
  const rows = db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`).all(...params) as {
    id: number;
    at: number;
    app: string;
    rollout_id: number | null;
    kind: string;
    message: string;
  }[];
  return rows.map((r) => ({ id: r.id, at: r.at, app: r.app, rolloutId: r.rollout_id, kind: r.kind, message: r.message }));
}
