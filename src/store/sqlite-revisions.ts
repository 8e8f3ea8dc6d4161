import type Database from 'better-sqlite3';
import type { AppSpec } from '../model/app-spec.js';
import type { ReleaseRecord, RevisionRecord, TrafficShare } from '../model/records.js';

/** Apps (stable revision, traffic split) and their revisions, in the `apps` and `revisions` tables. */

interface RevisionRow {
  app: string;
  number: number;
  spec: string;
  spec_hash: string;
  created_at: number;
  release: string | null;
  overrides: string | null;
}

export function listApps(db: Database.Database): { name: string; stableRevision: number | null }[] {
  const rows = db.prepare('SELECT name, stable_revision FROM apps ORDER BY name').all() as { name: string; stable_revision: number | null }[];
  return rows.map((r) => ({ name: r.name, stableRevision: r.stable_revision }));
}

export function stableRevision(db: Database.Database, app: string): number | null {
  const row = db.prepare('SELECT stable_revision FROM apps WHERE name = ?').get(app) as { stable_revision: number | null } | undefined;
  return row?.stable_revision ?? null;
}

export function setStableRevision(db: Database.Database, now: () => number, app: string, revision: number | null): void {
  db.prepare(
    'INSERT INTO apps (name, stable_revision, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET stable_revision = excluded.stable_revision, updated_at = excluded.updated_at',
  ).run(app, revision, now());
}

/** Forgets the app itself (its stable revision, count and traffic); its revisions, rollouts, instances and events stay. */
export function deleteApp(db: Database.Database, app: string): void {
  db.prepare('DELETE FROM apps WHERE name = ?').run(app);
}

export function replicasOf(db: Database.Database, app: string): number | null {
  const row = db.prepare('SELECT replicas FROM apps WHERE name = ?').get(app) as { replicas: number | null } | undefined;
  return row?.replicas ?? null;
}

export function setReplicas(db: Database.Database, now: () => number, app: string, replicas: number): void {
  db.prepare(
    'INSERT INTO apps (name, stable_revision, updated_at, replicas) VALUES (?, NULL, ?, ?) ON CONFLICT(name) DO UPDATE SET replicas = excluded.replicas, updated_at = excluded.updated_at',
  ).run(app, now(), replicas);
}

export function setTraffic(db: Database.Database, app: string, split: TrafficShare[]): void {
  db.prepare('UPDATE apps SET traffic = ? WHERE name = ?').run(JSON.stringify(split), app);
}

export function traffic(db: Database.Database, app: string): TrafficShare[] {
  const row = db.prepare('SELECT traffic FROM apps WHERE name = ?').get(app) as { traffic: string | null } | undefined;
  return row?.traffic ? (JSON.parse(row.traffic) as TrafficShare[]) : [];
}

export function latestRevision(db: Database.Database, app: string): RevisionRecord | null {
  const row = db.prepare('SELECT * FROM revisions WHERE app = ? ORDER BY number DESC LIMIT 1').get(app) as RevisionRow | undefined;
  return row ? toRevision(row) : null;
}

export function getRevision(db: Database.Database, app: string, number: number): RevisionRecord | null {
  const row = db.prepare('SELECT * FROM revisions WHERE app = ? AND number = ?').get(app, number) as RevisionRow | undefined;
  return row ? toRevision(row) : null;
}

export function listRevisions(db: Database.Database, app: string): RevisionRecord[] {
  return (db.prepare('SELECT * FROM revisions WHERE app = ? ORDER BY number').all(app) as RevisionRow[]).map(toRevision);
}

export function addRevision(
  db: Database.Database,
  now: () => number,
  app: string,
  spec: AppSpec,
  specHash: string,
  release: ReleaseRecord | null = null,
  overrides: readonly string[] = [],
): RevisionRecord {
  return db
    .transaction(() => {
      const latest = latestRevision(db, app);
      const number = (latest?.number ?? 0) + 1;
      const createdAt = now();
      db.prepare('INSERT INTO revisions (app, number, spec, spec_hash, created_at, release, overrides) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        app,
        number,
        JSON.stringify(spec),
        specHash,
        createdAt,
        release === null ? null : JSON.stringify(release),
        overrides.length === 0 ? null : JSON.stringify(overrides),
      );
      db.prepare('INSERT INTO apps (name, stable_revision, updated_at) VALUES (?, NULL, ?) ON CONFLICT(name) DO NOTHING').run(app, createdAt);
      return { app, number, spec, specHash, createdAt, release, overrides: [...overrides] };
    })
    .immediate();
}

/** Records what became of a revision's release (built, failed, pruned). */
export function setRelease(db: Database.Database, app: string, number: number, release: ReleaseRecord): void {
  db.prepare('UPDATE revisions SET release = ? WHERE app = ? AND number = ?').run(JSON.stringify(release), app, number);
}

function toRevision(row: RevisionRow): RevisionRecord {
  return {
    app: row.app,
    number: row.number,
    spec: JSON.parse(row.spec) as AppSpec,
    specHash: row.spec_hash,
    createdAt: row.created_at,
    release: row.release ? (JSON.parse(row.release) as ReleaseRecord) : null,
    overrides: row.overrides ? (JSON.parse(row.overrides) as string[]) : [],
  };
}
