import type Database from 'better-sqlite3';
import type { ClusterAppState, ClusterImport, ClusterRollout } from './store.js';
import type { RolloutRecord } from '../model/records.js';
import { getRevision } from './sqlite-revisions.js';
import { activeRollout, getRollout, updateRollout } from './sqlite-rollouts.js';
import { upsertHookRun } from './sqlite-hook-runs.js';
import { upsertAnalysisRun } from './sqlite-analysis.js';

/** A cluster app's state taken into the local store, and the cluster keys of local rollouts (`cluster_rollout_keys`). */

export function clusterRolloutKeys(db: Database.Database, app: string, rolloutIds: readonly number[], newKey?: () => string): Map<number, string> {
  const read = db.prepare('SELECT key FROM cluster_rollout_keys WHERE rollout_id = ?');
  const keys = new Map<number, string>();
  const missing: number[] = [];
  for (const id of rolloutIds) {
    const key = (read.get(id) as { key: string } | undefined)?.key;
    if (key === undefined) missing.push(id);
    else keys.set(id, key);
  }
  if (missing.length === 0 || !newKey) return keys;
  const insert = db.prepare('INSERT INTO cluster_rollout_keys (rollout_id, app, key) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const id of missing) {
      const key = newKey();
      insert.run(id, app, key);
      keys.set(id, key);
    }
  }).immediate();
  return keys;
}

export function importClusterState(db: Database.Database, now: () => number, state: ClusterAppState): ClusterImport {
  return db
    .transaction(() => {
      const { app } = state;
      const result: ClusterImport = { revisions: 0, rollouts: 0, superseded: [] };
      const replaced = new Set<number>();
      const upsertRevision = db.prepare(
        `INSERT INTO revisions (app, number, spec, spec_hash, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(app, number) DO UPDATE SET spec = excluded.spec, spec_hash = excluded.spec_hash, created_at = excluded.created_at`,
      );
      for (const revision of state.revisions) {
        const local = getRevision(db, app, revision.number);
        if (local?.specHash === revision.specHash) continue;
        if (local) replaced.add(revision.number);
        upsertRevision.run(app, revision.number, JSON.stringify(revision.spec), revision.specHash, revision.createdAt);
        result.revisions++;
      }
      db.prepare(
        'INSERT INTO apps (name, stable_revision, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET stable_revision = excluded.stable_revision, updated_at = excluded.updated_at',
      ).run(app, state.stableRevision, now());

      const idOfKey = db.prepare('SELECT rollout_id FROM cluster_rollout_keys WHERE app = ? AND key = ?');
      const localId = (key: string): number | undefined => (idOfKey.get(app, key) as { rollout_id: number } | undefined)?.rollout_id;
      const localActive = activeRollout(db, app);
      if (localActive) {
        const reason = supersedingReason(localActive, state, replaced, (key) => localId(key) === localActive.id);
        if (reason) {
          updateRollout(db, now, localActive.id, { phase: 'failed', reason: `${reason}; deploy again` });
          result.superseded.push({ rolloutId: localActive.id, reason });
        }
      }
      const insertKey = db.prepare('INSERT INTO cluster_rollout_keys (rollout_id, app, key) VALUES (?, ?, ?)');
      for (const rollout of state.rollouts) {
        const known = localId(rollout.key);
        const current = known === undefined ? null : getRollout(db, known);
        const isSame = current !== null && current.updatedAt === rollout.updatedAt && current.phase === rollout.phase;
        const id = current ? current.id : writeRolloutRow(db, rollout, null);
        if (!current) insertKey.run(id, app, rollout.key);
        else if (!isSame) writeRolloutRow(db, rollout, id);
        if (!isSame) result.rollouts++;
        for (const run of rollout.hookRuns) {
          // A hook that was running elsewhere is not this machine's process: the rollout holds at its gate, as after a crash.
          const isElsewhere = run.state === 'running';
          upsertHookRun(db, {
            ...run,
            rolloutId: id,
            pid: null,
            identity: null,
            ...(isElsewhere ? { state: 'interrupted', reason: 'it was running on another cutover when that one stopped driving the app' } : {}),
          });
        }
        for (const run of rollout.analysisRuns) upsertAnalysisRun(db, { ...run, rolloutId: id });
      }
      return result;
    })
    .immediate();
}

/** Writes every column of a rollout from the cluster: over row `id`, or as a new row (returns its id). */
function writeRolloutRow(db: Database.Database, r: ClusterRollout, id: number | null): number {
  const values = [
    r.app,
    r.strategy,
    r.strategySpec ? JSON.stringify(r.strategySpec) : null,
    r.trigger,
    r.fromRevision,
    r.toRevision,
    r.phase,
    r.direction,
    r.step,
    r.reason,
    r.startedAt,
    r.updatedAt,
    r.endedAt,
    r.stepIndex,
    r.stepStartedAt,
    r.pausedAt,
    r.gate,
    r.warmRevision,
    r.warmUntil,
    r.hooks ? JSON.stringify(r.hooks) : null,
    JSON.stringify(r.skippedHooks),
    r.analysis ? JSON.stringify(r.analysis) : null,
    r.report === null ? null : JSON.stringify(r.report),
  ];
  const columns =
    'app, strategy, strategy_spec, trigger, from_revision, to_revision, phase, direction, step, reason, started_at, updated_at, ended_at, step_index, step_started_at, paused_at, gate, warm_revision, warm_until, hooks_spec, skipped_hooks, analysis_spec, report';
  if (id !== null) {
    db.prepare(`UPDATE rollouts SET (${columns}) = (${values.map(() => '?').join(', ')}) WHERE id = ?`).run(...values, id);
    return id;
  }
  return Number(db.prepare(`INSERT INTO rollouts (${columns}) VALUES (${values.map(() => '?').join(', ')})`).run(...values).lastInsertRowid);
}

/**
 * Why the cluster's state overrules a local active rollout, or null when it may go on: the
 * cluster runs another rollout, or its stable revision or the target's spec moved meanwhile.
 */
function supersedingReason(
  local: RolloutRecord,
  state: ClusterAppState,
  replacedRevisions: ReadonlySet<number>,
  isLocal: (key: string) => boolean,
): string | null {
  const mine = state.rollouts.find((r) => isLocal(r.key));
  if (mine) return null; // The cluster knows this rollout: the import brings its progress.
  const active = state.rollouts.find((r) => r.phase === 'progressing' || r.phase === 'paused');
  if (active)
    return `another cutover drives rollout ${active.key} (revision ${active.fromRevision ?? '-'} → ${active.toRevision}) of "${local.app}" on the cluster`;
  if (local.fromRevision !== state.stableRevision)
    return `the cluster's stable revision of "${local.app}" is ${state.stableRevision ?? 'none'} now, not ${local.fromRevision ?? 'none'}: another cutover drove the app meanwhile`;
  if (replacedRevisions.has(local.toRevision)) return `revision ${local.toRevision} of "${local.app}" is another spec on the cluster`;
  return null;
}
