import type { ObservedRevision } from '../runtime/runtime.js';
import type { ObservedInstance } from '../strategies/strategy-plan.js';

/** One instance of an app on a revision runtime (a pod), as the planners and the traffic plan see it. */
export interface RevisionInstance extends ObservedInstance {
  /** Null while it has no address (starting, or not created yet). */
  host: string | null;
  port: number;
  /** Why the pod will not become ready by itself (a crash loop, an image that cannot be pulled), or null. */
  failure: string | null;
}

const PENDING = '~pending-';

/**
 * The planners' view of what a revision runtime observed: ready pods are `ready` (ready since
 * their Ready condition turned True), unready pods `starting`, and replicas asked for but not
 * created yet count as `starting` too (ids `web-r3~pending-0`), so a planner never asks twice for
 * the same pod. A failed pod (crash loop, image pull) is `starting` with its `failure`: it
 * exists, and its ReplicaSet makes no other in its place; the controller judges the failure.
 * Pods on their way out are left out: they are draining.
 */
export function revisionInstances(observed: readonly ObservedRevision[], monotonicFrom: (wallClockMs: number) => number, nowMs: number): RevisionInstance[] {
  const instances: RevisionInstance[] = [];
  for (const revision of observed) {
    for (const endpoint of revision.readyEndpoints) {
      const since = revision.readySinceMs[endpoint.id];
      instances.push({
        id: endpoint.id,
        revision: revision.revision,
        state: 'ready',
        readyAtMs: since === undefined ? nowMs : monotonicFrom(since),
        host: endpoint.host,
        port: endpoint.port,
        failure: null,
      });
    }
    for (const pod of revision.unreadyPods)
      instances.push({ id: pod, revision: revision.revision, state: 'starting', readyAtMs: null, host: null, port: 0, failure: null });
    for (const pod of revision.failedPods)
      instances.push({ id: pod.id, revision: revision.revision, state: 'starting', readyAtMs: null, host: null, port: 0, failure: pod.reason });
    const existing = revision.readyEndpoints.length + revision.unreadyPods.length + revision.failedPods.length;
    for (let n = existing; n < revision.desiredReplicas; n++)
      instances.push({
        id: `r${revision.revision}${PENDING}${n}`,
        revision: revision.revision,
        state: 'starting',
        readyAtMs: null,
        host: null,
        port: 0,
        failure: null,
      });
  }
  return instances;
}

/** A replica asked for but not created yet (no pod to show). */
export function isPendingPod(id: string): boolean {
  return id.includes(PENDING);
}

/**
 * The replica count each revision should have after a plan: its live instances, less those the
 * plan stops, plus those it starts. Revisions the plan does not touch keep their count.
 *
 * @example
 * replicaCounts(instances, [{ revision: 3, count: 1 }], ['web-r2-abc']) // → Map { 2 => 2, 3 => 2 }
 */
export function replicaCounts(
  instances: readonly ObservedInstance[],
  starts: readonly { revision: number; count: number }[],
  stopIds: readonly string[],
): Map<number, number> {
  const counts = new Map<number, number>();
  for (const instance of instances) {
    const isStopped = stopIds.includes(instance.id);
    counts.set(instance.revision, (counts.get(instance.revision) ?? 0) + (isStopped ? 0 : 1));
  }
  for (const { revision, count } of starts) counts.set(revision, (counts.get(revision) ?? 0) + count);
  return counts;
}
