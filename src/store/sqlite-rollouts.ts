import type Database from 'better-sqlite3';
import { CutoverError } from '../errors.js';
import type { AnalysisTemplateSpec, HookPoint, HooksSpec, StrategySpec } from '../model/app-spec.js';
import type { RolloutDirection, RolloutPhase, StrategyName } from '../model/rollout.js';
import { rolloutAlreadyActive, type NewRollout, type RolloutUpdate } from './store.js';
import { type RolloutRecord, type RolloutTrigger } from '../model/records.js';

/** Rollouts, in the `rollouts` table; at most one progressing or paused per app (a unique index). */

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

const ACTIVE = `phase IN ('progressing', 'paused')`;

export function createRollout(db: Database.Database, now: () => number, rollout: NewRollout): RolloutRecord {
  const active = activeRollout(db, rollout.app);
  if (active) throw rolloutAlreadyActive(active);
  const at = now();
  try {
    const result = db
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
    return getRollout(db, Number(result.lastInsertRowid))!;
  } catch (error) {
    // Another writer won the race: the unique index is the last word.
    const winner = activeRollout(db, rollout.app);
    if (winner) throw rolloutAlreadyActive(winner);
    throw error;
  }
}

export function getRollout(db: Database.Database, id: number): RolloutRecord | null {
  const row = db.prepare('SELECT * FROM rollouts WHERE id = ?').get(id) as RolloutRow | undefined;
  return row ? toRollout(row) : null;
}

export function activeRollout(db: Database.Database, app: string): RolloutRecord | null {
  const row = db.prepare(`SELECT * FROM rollouts WHERE app = ? AND ${ACTIVE}`).get(app) as RolloutRow | undefined;
  return row ? toRollout(row) : null;
}

export function listRollouts(db: Database.Database, app: string, limit: number): RolloutRecord[] {
  return (db.prepare('SELECT * FROM rollouts WHERE app = ? ORDER BY id DESC LIMIT ?').all(app, limit) as RolloutRow[]).map(toRollout);
}

export function updateRollout(db: Database.Database, now: () => number, id: number, update: RolloutUpdate): RolloutRecord {
  const current = getRollout(db, id);
  if (!current) throw new CutoverError('ROLLOUT_NOT_FOUND', `rollout ${id} does not exist`);
  const phase = update.phase ?? current.phase;
  const isEnding = phase !== 'progressing' && phase !== 'paused';
  const at = now();
  const pick = <K extends keyof RolloutUpdate & keyof RolloutRecord>(key: K): RolloutRecord[K] =>
    update[key] === undefined ? current[key] : (update[key] as RolloutRecord[K]);
  db.prepare(
    `UPDATE rollouts SET phase = ?, direction = ?, step = ?, reason = ?, updated_at = ?, ended_at = ?,
         step_index = ?, step_started_at = ?, paused_at = ?, gate = ?, warm_revision = ?, warm_until = ?, report = ? WHERE id = ?`,
  ).run(
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
  return getRollout(db, id)!;
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
