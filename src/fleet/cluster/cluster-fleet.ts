import type { EventSink } from '../../model/event-kinds.js';
import type { Store } from '../../store/store.js';
import type { Fleet, ObservedFleet } from '../fleet.js';
import type { InstanceStatus } from '../../protocol/status.js';
import { isPendingPod, replicaCounts, revisionInstances, type RevisionInstance } from './revision-instances.js';
import type { RevisionBackend } from './revision-backend.js';

export interface ClusterFleetOptions {
  store: Store;
  events: EventSink;
  backendOf: (app: string) => RevisionBackend | null;
  /** First failure of a pod of a forward rollout's revision, by rollout id: the next pass judges the rollout. */
  rolloutFailures: Map<number, string>;
  requestReconcile: (app: string) => void;
  monotonicFrom: (wallClockMs: number) => number;
}

/**
 * The pods of cluster apps: the cluster creates and deletes them; a pass asks for replica counts
 * per revision (one ReplicaSet each). Rule 2 holds through the plan pushed before the counts: a
 * stopped pod's revision count drops only after that plan left it out.
 */
export class ClusterFleet implements Fleet {
  /** Each app's pods as last observed, for status and to say each failure once. */
  private readonly pods = new Map<string, RevisionInstance[]>();

  constructor(private readonly options: ClusterFleetOptions) {}

  /**
   * The app's pods as last observed, for status (pid null, the container port; a failed pod with
   * its reason; replicas not created yet left out), or null for an app this fleet has not observed.
   */
  statusOf(app: string): InstanceStatus[] | null {
    const pods = this.pods.get(app);
    if (!pods) return null;
    return pods
      .filter((p) => !isPendingPod(p.id))
      .map((p) => ({
        id: p.id,
        revision: p.revision,
        pid: null,
        port: p.port,
        ...(p.failure === null ? { state: p.state } : { state: 'failed' as const, reason: p.failure }),
      }));
  }

  /** Forgets an app that is no longer a cluster app. */
  forget(app: string): void {
    this.pods.delete(app);
  }

  async observe(app: string, nowMs: number): Promise<ObservedFleet> {
    const backend = this.options.backendOf(app)!;
    const observed = await backend.runtime.observe();
    const pods = revisionInstances(observed, this.options.monotonicFrom, nowMs);
    const revisions = new Set(observed.map((r) => r.revision));
    const desired = new Map(observed.map((r) => [r.revision, r.desiredReplicas]));
    const terminating = observed.reduce((sum, r) => sum + r.terminatingPods.length, 0);
    this.judgeFailures(app, pods);
    this.pods.set(app, pods);
    const applyCounts = async (starts: readonly { revision: number; count: number }[], stopIds: readonly string[]): Promise<void> => {
      // Ready pods leave the Services first (the ReplicaSet lets them go), then counts drop, and
      // they are stopped only once nothing routes to them: see PodRetirement.
      const leaving = pods.filter((p) => p.state === 'ready' && stopIds.includes(p.id)).map((p) => p.id);
      if (leaving.length > 0) await backend.runtime.takeOutOfTraffic?.(leaving);
      for (const [revision, count] of replicaCounts(pods, starts, stopIds)) {
        if (!revisions.has(revision)) {
          if (count === 0) continue;
          await backend.runtime.ensureRevision(revision, count, this.options.store.getRevision(app, revision)!.spec);
          this.options.events.emitForApp(app, 'instance-starting', `revision ${revision}: created with ${count} replica${count === 1 ? '' : 's'}`);
        } else if (desired.get(revision) !== count) {
          await backend.runtime.scaleRevision(revision, count);
          const kind = count > (desired.get(revision) ?? 0) ? 'instance-starting' : 'instance-draining';
          this.options.events.emitForApp(app, kind, `revision ${revision}: scaled from ${desired.get(revision)} to ${count} replica${count === 1 ? '' : 's'}`);
        }
      }
      if (leaving.length > 0) backend.runtime.retire?.(leaving);
    };
    return {
      instances: pods,
      serving: (leavingIds, warm) =>
        pods
          .filter((p) => p.state === 'ready' && p.host !== null && !leavingIds.includes(p.id) && p.revision !== warm)
          .map((p) => ({ id: p.id, revision: p.revision, host: p.host!, port: p.port })),
      // Pods go by replica counts, with the starts (see applySizes).
      beginStops: () => {},
      applySizes: (starts, stopIds) => applyCounts(starts, stopIds),
      stopEverything: () =>
        applyCounts(
          [],
          pods.map((p) => p.id),
        ),
      isDraining: () => terminating > 0,
    };
  }

  /**
   * Pods that will not become ready by themselves (a crash loop, an image that cannot be pulled;
   * see `podFailure`) are said as they fail, against the pods observed before. One of the
   * revision a forward rollout brings fails that rollout, as a crashed local instance does: it
   * turns back, or fails on a first deploy. A failed pod of another revision (the stable one) is
   * only reported: it judges no rollout.
   */
  private judgeFailures(app: string, pods: readonly RevisionInstance[]): void {
    const known = new Map((this.pods.get(app) ?? []).map((p) => [p.id, p.failure]));
    const rollout = this.options.store.activeRollout(app);
    const failures = this.options.rolloutFailures;
    for (const pod of pods) {
      if (pod.failure === null) continue;
      if (!known.get(pod.id)) this.options.events.emit(app, rollout?.id ?? null, 'instance-failed', `revision ${pod.revision}: ${pod.failure}`);
      if (rollout?.direction === 'forward' && pod.revision === rollout.toRevision && !failures.has(rollout.id)) {
        failures.set(rollout.id, pod.failure);
        this.options.requestReconcile(app);
      }
    }
  }
}
