import type Database from 'better-sqlite3';
import { addInto, emptyCounts, type RevisionCounts } from '../model/measurements.js';
import type { PlanGeneration, TrafficShare } from '../model/records.js';

/** Traffic-plan generations (`plan_generations`) and what each one routed (`traffic_generations`), for exact deploy reports. */

export function addPlanGeneration(db: Database.Database, app: string, atMs: number, shares: readonly TrafficShare[]): number {
  const result = db.prepare('INSERT INTO plan_generations (app, at, shares) VALUES (?, ?, ?)').run(app, atMs, JSON.stringify(shares));
  return Number(result.lastInsertRowid);
}

/** The generation in force at `sinceMs` (the last made before it), then every later one, oldest first. */
export function planGenerationsSince(db: Database.Database, app: string, sinceMs: number): PlanGeneration[] {
  const rows = db
    .prepare(
      `SELECT id, app, at, shares FROM plan_generations WHERE app = ? AND id >= COALESCE((SELECT MAX(id) FROM plan_generations WHERE app = ? AND at < ?), 0) ORDER BY id`,
    )
    .all(app, app, sinceMs) as { id: number; app: string; at: number; shares: string }[];
  return rows.map((row) => ({ generation: row.id, app: row.app, at: row.at, shares: JSON.parse(row.shares) as TrafficShare[] }));
}

/** Per generation and revision, what was counted in the seconds from `fromMs` (included) to `untilMs` (excluded). */
export function trafficOfGenerations(db: Database.Database, app: string, generations: readonly number[], fromMs: number, untilMs: number): RevisionCounts[] {
  if (generations.length === 0) return [];
  const rows = db
    .prepare(
      `SELECT generation, revision, counts, latency_buckets, latency_sum FROM traffic_generations
       WHERE app = ? AND generation IN (SELECT value FROM json_each(?)) AND second >= ? AND second < ?`,
    )
    .all(app, JSON.stringify(generations), Math.floor(fromMs / 1000), Math.ceil(untilMs / 1000)) as {
    generation: number;
    revision: number;
    counts: string;
    latency_buckets: string;
    latency_sum: number;
  }[];
  const byKey = new Map<string, RevisionCounts>();
  for (const row of rows) {
    const key = `${row.generation}/${row.revision}`;
    const sum = byKey.get(key) ?? { ...emptyCounts(app, row.revision), generation: row.generation };
    addInto(sum, JSON.parse(row.counts) as number[], JSON.parse(row.latency_buckets) as number[], row.latency_sum);
    byKey.set(key, sum);
  }
  return [...byKey.values()];
}

/** Adds one poll's counts of one generation and revision to the second they were read in (inside the caller's transaction). */
export function addGenerationTraffic(db: Database.Database, second: number, change: RevisionCounts & { generation: number }): void {
  const row = db
    .prepare('SELECT counts, latency_buckets, latency_sum FROM traffic_generations WHERE app = ? AND generation = ? AND revision = ? AND second = ?')
    .get(change.app, change.generation, change.revision, second) as { counts: string; latency_buckets: string; latency_sum: number } | undefined;
  const merged = { ...change, counts: [...change.counts], latencyBuckets: [...change.latencyBuckets] };
  if (row) addInto(merged, JSON.parse(row.counts) as number[], JSON.parse(row.latency_buckets) as number[], row.latency_sum);
  db.prepare(
    'INSERT OR REPLACE INTO traffic_generations (app, generation, revision, second, counts, latency_buckets, latency_sum) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(change.app, change.generation, change.revision, second, JSON.stringify(merged.counts), JSON.stringify(merged.latencyBuckets), merged.latencySumSeconds);
}
