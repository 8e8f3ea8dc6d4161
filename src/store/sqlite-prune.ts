import type Database from 'better-sqlite3';

/** Forgetting the oldest history: events, ended instances and traffic seconds. */

export function prune(db: Database.Database, now: () => number, limits: { keepEvents: number; keepEndedInstances: number; keepTrafficMs?: number }): string[] {
  return db
    .transaction(() => {
      if (limits.keepTrafficMs !== undefined) {
        const before = now() - limits.keepTrafficMs;
        db.prepare('DELETE FROM traffic_seconds WHERE second < ?').run(Math.floor(before / 1000));
        db.prepare('DELETE FROM traffic_generations WHERE second < ?').run(Math.floor(before / 1000));
        // The newest generation of each app stays: it is the plan in force.
        db.prepare('DELETE FROM plan_generations WHERE at < ? AND id NOT IN (SELECT MAX(id) FROM plan_generations GROUP BY app)').run(before);
        db.prepare('DELETE FROM measurement_cursors WHERE source IN (SELECT source FROM measurement_cursors GROUP BY source HAVING MAX(updated_at) < ?)').run(
          before,
        );
      }
      db.prepare('DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)').run(limits.keepEvents);
      const ended = `state IN ('stopped', 'failed') AND stopped_at IS NOT NULL`;
      const forgotten = db
        .prepare(`SELECT id, log_path FROM instances WHERE ${ended} ORDER BY stopped_at DESC LIMIT -1 OFFSET ?`)
        .all(limits.keepEndedInstances) as { id: string; log_path: string }[];
      const remove = db.prepare('DELETE FROM instances WHERE id = ?');
      for (const row of forgotten) remove.run(row.id);
      return forgotten.map((row) => row.log_path);
    })
    .immediate();
}
