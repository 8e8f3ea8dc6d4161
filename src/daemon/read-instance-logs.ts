import fs from 'node:fs';
import Database from 'better-sqlite3';

/** One instance whose log `cutover logs` may print, as the state database records it. */
export interface InstanceLog {
  id: string;
  revision: number;
  /** Running (starting, ready, draining) when the database was read. */
  isLive: boolean;
  logPath: string;
  startedAt: number;
  stoppedAt: number | null;
}

/**
 * The apps and an app's instances (live and ended, as long as their records are kept), read
 * without writing: the daemon may run, or not. Null when there is no database to read.
 */
export function readInstanceLogs(databasePath: string, app: string): { apps: string[]; stableRevision: number | null; instances: InstanceLog[] } | null {
  if (!fs.existsSync(databasePath)) return null;
  let db: Database.Database | null = null;
  try {
    db = new Database(databasePath, { readonly: true, fileMustExist: true });
    const apps = db.prepare('SELECT name FROM apps ORDER BY name').pluck().all() as string[];
    const stable = db.prepare('SELECT stable_revision FROM apps WHERE name = ?').pluck().get(app) as number | null | undefined;
    const rows = db.prepare('SELECT id, revision, state, log_path, started_at, stopped_at FROM instances WHERE app = ? ORDER BY started_at, id').all(app) as {
      id: string;
      revision: number;
      state: string;
      log_path: string;
      started_at: number;
      stopped_at: number | null;
    }[];
    const instances = rows.map((r) => ({
      id: r.id,
      revision: r.revision,
      isLive: r.state !== 'stopped' && r.state !== 'failed',
      logPath: r.log_path,
      startedAt: r.started_at,
      stoppedAt: r.stopped_at,
    }));
    return { apps, stableRevision: stable ?? null, instances };
  } catch {
    return null;
  } finally {
    db?.close();
  }
}
