import { setTimeout as sleep } from 'node:timers/promises';
import { appNotFound, CutoverError } from '../errors.js';
import type { ClusterCoordinator } from '../fleet/cluster/cluster-coordinator.js';
import type { RemoveResult } from '../protocol/remove-result.js';
import type { TrafficRouter } from '../router/traffic-router.js';
import type { Store } from '../store/store.js';
import type { EventLog } from './event-log.js';
import type { ReconcileLoop } from './reconcile-loop.js';

/** How long after its drain and stop timeouts a removal waits for the last instance to end. */
const STOP_GRACE_MS = 15_000;
const POLL_MS = 100;

export interface AppRemovalOptions {
  store: Store;
  events: EventLog;
  loop: ReconcileLoop;
  cluster: ClusterCoordinator;
  /** The router the app's traffic plans go to. */
  routerOf: (app: string) => TrafficRouter;
}

/**
 * `cutover remove APP`: the app leaves traffic, its instances drain and stop (rule 2, carried
 * out by the reconcile pass that sees no stable revision), then its listener and its row go.
 * Revisions, rollouts, instance records and events stay: `history` and `report` still answer.
 */
export class AppRemoval {
  constructor(private readonly options: AppRemovalOptions) {}

  async remove(app: string): Promise<RemoveResult> {
    const { store, loop, events } = this.options;
    if (loop.isStopping) throw new CutoverError('DAEMON_STOPPING', 'the daemon is stopping', { hint: 'Start it again with cutover up, then retry.' });
    const known = store.listApps().map((a) => a.name);
    if (!known.includes(app)) throw appNotFound(app, known);
    this.options.cluster.refuseIfDrivenElsewhere(app, 'remove');
    if (this.options.cluster.backendOf(app) !== null)
      throw new CutoverError('RUNTIME_NOT_SUPPORTED', `app "${app}" runs on Kubernetes: cutover remove handles local apps only so far`, {
        hint: `Delete its objects with kubectl (see cutover render ${app}).`,
      });
    const active = store.activeRollout(app);
    if (active)
      throw new CutoverError('ROLLOUT_ALREADY_ACTIVE', `app "${app}" has rollout ${active.id} ${active.phase}; remove it once that rollout ends`, {
        hint: `End it with: cutover abort ${app} (or wait: cutover status ${app})`,
      });
    const stable = store.stableRevision(app);
    const instances = store.listInstances(app).length;
    const deadlineMs = performance.now() + this.stopBudgetMs(app, stable) + STOP_GRACE_MS;
    // No stable revision: the next pass pushes a plan without the app's instances, then stops them.
    store.setStableRevision(app, null);
    await loop.settle(app);
    while (store.listInstances(app).length > 0) {
      if (performance.now() > deadlineMs)
        throw new CutoverError('REMOVE_NOT_FINISHED', `app "${app}" still has ${store.listInstances(app).length} instance(s) stopping`, {
          hint: `It is out of traffic and keeps stopping; run cutover remove ${app} again to finish.`,
        });
      await sleep(POLL_MS);
      loop.request(app);
    }
    // No pass may run between the last stop and forgetting the app: it would bring its row back.
    await loop.hold(app, async () => {
      await this.options.routerOf(app).removeApp(app);
      store.deleteApp(app);
      loop.forget(app);
    });
    const revisions = store.listRevisions(app).length;
    events.emit(
      app,
      null,
      'app-removed',
      `removed: ${instances} instance${instances === 1 ? '' : 's'} of revision ${stable ?? '-'} stopped; ${revisions} revision${revisions === 1 ? '' : 's'} kept in history`,
    );
    return { app, revision: stable, stoppedInstances: instances, keptRevisions: revisions };
  }

  /** The stable revision's drain and stop timeouts: what stopping one of its instances may take. */
  private stopBudgetMs(app: string, stable: number | null): number {
    const spec = stable === null ? this.options.store.latestRevision(app)?.spec : this.options.store.getRevision(app, stable)?.spec;
    return (spec?.drainTimeoutMs ?? 30_000) + (spec?.stopTimeoutMs ?? 10_000);
  }
}
