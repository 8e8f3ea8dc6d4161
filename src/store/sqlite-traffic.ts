import type Database from 'better-sqlite3';
import { addInto, emptyCounts, type MeasurementCursor, type RevisionCounts, type SampleDelta } from '../model/measurements.js';
import { meterKey, type EndpointMeasurement } from '../model/measurements.js';
import { addGenerationTraffic } from './sqlite-plan-generations.js';

/** The data plane's counts per app, revision and second (`traffic_seconds`), and the raw counts they were taken from (`measurement_cursors`). */

/** The revision under which traffic_seconds keeps the requests no instance could take (revisions start at 1). */
const UNROUTED_REVISION = 0;

export function addTraffic(db: Database.Database, atMs: number, delta: SampleDelta): void {
  if (delta.revisions.length === 0 && delta.unrouted.size === 0 && delta.cursors.length === 0) return;
  const second = Math.floor(atMs / 1000);
  const read = db.prepare('SELECT counts, latency_buckets, latency_sum FROM traffic_seconds WHERE app = ? AND second = ? AND revision = ?');
  const write = db.prepare('INSERT OR REPLACE INTO traffic_seconds (app, revision, second, counts, latency_buckets, latency_sum) VALUES (?, ?, ?, ?, ?, ?)');
  const cursor = db.prepare(
    'INSERT INTO measurement_cursors (source, instance, raw, first_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(source, instance) DO UPDATE SET raw = excluded.raw, updated_at = excluded.updated_at',
  );
  const add = (change: RevisionCounts): void => {
    const row = read.get(change.app, second, change.revision) as { counts: string; latency_buckets: string; latency_sum: number } | undefined;
    const merged = row ? { ...change, counts: [...change.counts], latencyBuckets: [...change.latencyBuckets] } : change;
    if (row) addInto(merged, JSON.parse(row.counts) as number[], JSON.parse(row.latency_buckets) as number[], row.latency_sum);
    write.run(change.app, change.revision, second, JSON.stringify(merged.counts), JSON.stringify(merged.latencyBuckets), merged.latencySumSeconds);
  };
  db.transaction(() => {
    for (const change of delta.revisions) {
      add(change);
      if (change.generation !== undefined) addGenerationTraffic(db, second, { ...change, generation: change.generation });
    }
    for (const [app, count] of delta.unrouted) add({ ...emptyCounts(app, UNROUTED_REVISION), counts: [count] });
    for (const c of delta.cursors) {
      for (const m of c.endpoints) cursor.run(c.source, meterKey(m), JSON.stringify(m), atMs, atMs);
      if (c.unrouted !== null) cursor.run(c.source, '', JSON.stringify(c.unrouted), atMs, atMs);
    }
  }).immediate();
}

export function trafficBetween(db: Database.Database, app: string, fromMs: number, untilMs: number): { revisions: RevisionCounts[]; unrouted: number } {
  const rows = db
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

export function listMeasurementCursors(db: Database.Database): MeasurementCursor[] {
  const rows = db.prepare('SELECT source, instance, raw FROM measurement_cursors ORDER BY source, instance').all() as {
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

export function measuringSince(db: Database.Database): number | null {
  return (db.prepare('SELECT MIN(first_at) AS since FROM measurement_cursors').get() as { since: number | null }).since;
}
