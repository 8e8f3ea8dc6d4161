import { DEFAULT_REPLICAS } from '../config/defaults.js';
import type { Store } from '../store/store.js';
import type { EventLog } from './event-log.js';
import type { ReconcileLoop } from './reconcile-loop.js';

/** The app's count now: set by a deploy or a scale, else (state from before counts were kept) its revision's. */
export function replicasOf(store: Store, app: string): number {
  const stable = store.stableRevision(app);
  const revision = stable === null ? store.latestRevision(app) : store.getRevision(app, stable);
  return store.replicasOf(app) ?? revision?.spec.replicas ?? DEFAULT_REPLICAS;
}

/**
 * Records a new count with its event (replicas are the app's, not a revision's: no new revision)
 * and wakes the loop; returns what changed, or null when nothing did.
 */
export function setReplicas(
  parts: { store: Store; events: EventLog; loop: ReconcileLoop },
  app: string,
  replicas: number,
): { from: number; to: number } | null {
  const { store } = parts;
  const from = replicasOf(store, app);
  if (store.replicasOf(app) === replicas) return null;
  store.setReplicas(app, replicas);
  if (from === replicas) return null;
  const stable = store.stableRevision(app);
  parts.events.emit(
    app,
    null,
    'app-scaled',
    `scaled from ${from} to ${replicas} instance${replicas === 1 ? '' : 's'} of revision ${stable ?? '-'} (no new revision)`,
  );
  parts.loop.request(app);
  return { from, to: replicas };
}
