import type { ClusterAppState, Store } from '../store/store.js';

/** Rollouts of an app the cluster keeps: enough for `history`, `rollback` and any rollout in progress. */
export const CLUSTER_STATE_ROLLOUTS = 20;
/** Revisions kept beyond those the kept rollouts name, newest first (for `rollback --to`). */
export const CLUSTER_STATE_REVISIONS = 20;
/** A ConfigMap holds at most 1 MiB; the state stays well below, dropping the oldest rollouts first. */
export const CLUSTER_STATE_MAX_BYTES = 768 * 1024;

/**
 * What the cluster keeps of an app (cluster apps): its recent rollouts, each under a key the same
 * on every machine (given here on first export), with their hook runs and finished analysis runs;
 * the revisions they name plus the newest ones; the stable revision. A running analysis is left
 * out: whoever drives the app next measures that point again.
 *
 * @example
 * const state = clusterStateOf(store, 'web', () => randomUUID());
 */
export function clusterStateOf(store: Store, app: string, newKey: () => string, maxBytes = CLUSTER_STATE_MAX_BYTES): ClusterAppState {
  let rollouts = store.listRollouts(app, CLUSTER_STATE_ROLLOUTS).reverse();
  for (;;) {
    const state = stateOf(store, app, rollouts, newKey);
    if (rollouts.length <= 1 || Buffer.byteLength(JSON.stringify(state)) <= maxBytes) return state;
    rollouts = rollouts.slice(1);
  }
}

function stateOf(store: Store, app: string, rollouts: ReturnType<Store['listRollouts']>, newKey: () => string): ClusterAppState {
  const keys = store.clusterRolloutKeys(
    app,
    rollouts.map((r) => r.id),
    newKey,
  );
  const stableRevision = store.stableRevision(app);
  const named = new Set<number>(stableRevision === null ? [] : [stableRevision]);
  for (const r of rollouts) for (const n of [r.fromRevision, r.toRevision, r.warmRevision]) if (n !== null) named.add(n);
  const all = store.listRevisions(app);
  const newest = new Set(
    all
      .map((r) => r.number)
      .sort((a, b) => b - a)
      .slice(0, CLUSTER_STATE_REVISIONS),
  );
  return {
    app,
    stableRevision,
    revisions: all.filter((r) => named.has(r.number) || newest.has(r.number)),
    rollouts: rollouts.map(({ id, ...record }) => ({
      ...record,
      key: keys.get(id)!,
      hookRuns: store.listHookRuns({ rolloutId: id }).map(({ rolloutId: _, ...run }) => run),
      analysisRuns: store
        .listAnalysisRuns({ rolloutId: id })
        .filter((run) => run.state !== 'running')
        .map(({ rolloutId: _, ...run }) => run),
    })),
  };
}
