import type Database from 'better-sqlite3';
import type { AnalysisMeasurementRecord, AnalysisRunRecord, AnalysisRunState } from '../model/records.js';

/** Analysis runs and their measurements, in the `analysis_runs` and `analysis_measurements` tables. */

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

export function upsertAnalysisRun(db: Database.Database, run: AnalysisRunRecord): void {
  db.prepare(
    `INSERT INTO analysis_runs (rollout_id, app, point_key, template, state, reason, started_at, ended_at)
       VALUES (@rolloutId, @app, @pointKey, @template, @state, @reason, @startedAt, @endedAt)
       ON CONFLICT(rollout_id, point_key, template) DO UPDATE SET state = excluded.state, reason = excluded.reason, started_at = excluded.started_at, ended_at = excluded.ended_at`,
  ).run(run);
}

export function listAnalysisRuns(db: Database.Database, query: { rolloutId: number }): AnalysisRunRecord[] {
  const rows = db.prepare('SELECT * FROM analysis_runs WHERE rollout_id = ? ORDER BY rowid').all(query.rolloutId) as AnalysisRunRow[];
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

export function addAnalysisMeasurement(db: Database.Database, m: AnalysisMeasurementRecord): void {
  db.prepare(
    `INSERT INTO analysis_measurements (rollout_id, app, point_key, template, at, window_ms, value, sample_size, baseline_value, baseline_sample_size, result, sentence)
       VALUES (@rolloutId, @app, @pointKey, @template, @at, @windowMs, @value, @sampleSize, @baselineValue, @baselineSampleSize, @result, @sentence)`,
  ).run({ ...m, id: undefined });
}

export function listAnalysisMeasurements(
  db: Database.Database,
  query: { rolloutId: number; pointKey?: string; template?: string },
): AnalysisMeasurementRecord[] {
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
  const rows = db.prepare(`SELECT * FROM analysis_measurements WHERE ${where.join(' AND ')} ORDER BY id`).all(...params) as AnalysisMeasurementRow[];
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
