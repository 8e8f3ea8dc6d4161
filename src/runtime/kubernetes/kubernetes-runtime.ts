import { readFileSync } from 'node:fs';
import type { V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { InputError } from '../../errors.js';
import type { ObservedRevision, RevisionRuntime, RevisionSpec } from '../runtime.js';
import { APP_LABEL, kubernetesError, MERGE_PATCH, REVISION_LABEL, statusOf, withConflictRetry, type KubeClients } from './kube-clients.js';
import { podFailure } from './pod-failure.js';
import { LEAVING_LABEL, PodRetirement } from './pod-retirement.js';
import { replicaSetManifest, revisionObjectName, type KubernetesRuntimeSpec } from './replica-set-manifest.js';

/**
 * Runs revisions of an app as ReplicaSets, one per revision, labelled with the app and the
 * revision. The local `Runtime` starts and stops single processes by pid; on a cluster the unit is
 * a revision's replica count, so this runtime works per revision: ensure, scale, observe, remove.
 * Every write is idempotent and a 409 Conflict is retried after a fresh read.
 *
 * @example
 * const runtime = new KubernetesRuntime(createKubeClients({ namespace: 'shop' }), spec);
 * await runtime.ensureRevision(3, 2);
 * const observed = await runtime.observe();
 */
export class KubernetesRuntime implements RevisionRuntime {
  private readonly runtime: KubernetesRuntimeSpec;
  private readonly retirement: PodRetirement;
  /** Pods this process is retiring now (so a pass that sees them leaving does not start again). */
  private readonly retiring = new Set<string>();

  constructor(
    private readonly clients: KubeClients,
    private readonly spec: RevisionSpec,
    private readonly onRetireError: (message: string) => void = () => {},
  ) {
    this.runtime = kubernetesRuntimeOf(spec);
    this.retirement = new PodRetirement(clients, spec.name);
  }

  async takeOutOfTraffic(pods: readonly string[]): Promise<void> {
    await this.retirement.takeOut(pods);
  }

  retire(pods: readonly string[]): void {
    const fresh = pods.filter((p) => !this.retiring.has(p));
    if (fresh.length === 0) return;
    for (const pod of fresh) this.retiring.add(pod);
    this.retirement
      .retire(fresh)
      .catch((error: unknown) => this.onRetireError(`retiring pods ${fresh.join(', ')}: ${(error as Error).message}`))
      .finally(() => {
        for (const pod of fresh) this.retiring.delete(pod);
      });
  }

  /** Creates the revision's ReplicaSet (from `spec`, that revision's; default: the app's), or sets its replica count when it exists. */
  async ensureRevision(revision: number, replicas: number, spec: RevisionSpec = this.spec): Promise<void> {
    const { apps, namespace } = this.clients;
    const runtime = kubernetesRuntimeOf(spec);
    const body = replicaSetManifest(spec, runtime, revision, replicas, readPodTemplate(runtime));
    try {
      await apps.createNamespacedReplicaSet({ namespace, body });
      return;
    } catch (error) {
      if (statusOf(error) !== 409) throw kubernetesError(`creating ReplicaSet ${namespace}/${body.metadata!.name}`, error);
    }
    await this.scaleRevision(revision, replicas);
  }

  /** Sets spec.replicas of the revision's ReplicaSet (a merge patch: idempotent). */
  async scaleRevision(revision: number, replicas: number): Promise<void> {
    const { apps, namespace } = this.clients;
    const name = revisionObjectName(this.spec.name, revision);
    await withConflictRetry(`scaling ReplicaSet ${namespace}/${name} to ${replicas}`, () =>
      apps.patchNamespacedReplicaSet({ name, namespace, body: { spec: { replicas } } }, MERGE_PATCH),
    );
  }

  /** Deletes the revision's ReplicaSet (its pods go with it); gone already is fine. */
  async removeRevision(revision: number): Promise<void> {
    const { apps, namespace } = this.clients;
    const name = revisionObjectName(this.spec.name, revision);
    try {
      await apps.deleteNamespacedReplicaSet({ name, namespace, body: { propagationPolicy: 'Background' } });
    } catch (error) {
      if (statusOf(error) !== 404) throw kubernetesError(`deleting ReplicaSet ${namespace}/${name}`, error);
    }
  }

  /** Every revision of the app that has a ReplicaSet, oldest first, with its ready, unready, failed (see `podFailure`) and terminating pods. */
  async observe(): Promise<ObservedRevision[]> {
    const { apps, core, namespace } = this.clients;
    const labelSelector = `${APP_LABEL}=${this.spec.name}`;
    let replicaSets, pods, leaving;
    try {
      [replicaSets, pods, leaving] = await Promise.all([
        apps.listNamespacedReplicaSet({ namespace, labelSelector }),
        core.listNamespacedPod({ namespace, labelSelector }),
        core.listNamespacedPod({ namespace, labelSelector: `${LEAVING_LABEL}=${this.spec.name}` }),
      ]);
    } catch (error) {
      throw kubernetesError(`listing ReplicaSets and Pods of ${namespace}/${this.spec.name}`, error);
    }
    const observed = new Map<number, ObservedRevision>();
    for (const replicaSet of replicaSets.items) {
      const revision = Number(replicaSet.metadata?.labels?.[REVISION_LABEL]);
      if (!Number.isInteger(revision)) continue;
      observed.set(revision, {
        revision,
        desiredReplicas: replicaSet.spec?.replicas ?? 0,
        readyEndpoints: [],
        unreadyPods: [],
        failedPods: [],
        terminatingPods: [],
        readySinceMs: {},
      });
    }
    for (const pod of pods.items) {
      const entry = observed.get(Number(pod.metadata?.labels?.[REVISION_LABEL]));
      if (entry === undefined) continue;
      const name = pod.metadata?.name ?? '?';
      if (pod.metadata?.deletionTimestamp) {
        entry.terminatingPods.push(name);
      } else if (isPodReady(pod)) {
        entry.readyEndpoints.push({ id: name, host: pod.status!.podIP!, port: this.runtime.port });
        const since = pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
        if (since !== undefined) entry.readySinceMs[name] = new Date(since).getTime();
      } else {
        const reason = podFailure(pod);
        if (reason === null) entry.unreadyPods.push(name);
        else entry.failedPods.push({ id: name, reason });
      }
    }
    // Pods out of traffic on their way out count as terminating; one a dead controller left behind is retired now.
    const stranded: string[] = [];
    for (const pod of leaving.items) {
      const name = pod.metadata?.name ?? '?';
      observed.get(Number(pod.metadata?.labels?.[REVISION_LABEL]))?.terminatingPods.push(name);
      if (!pod.metadata?.deletionTimestamp) stranded.push(name);
    }
    this.retire(stranded);
    return [...observed.values()].sort((a, b) => a.revision - b.revision);
  }
}

function kubernetesRuntimeOf(spec: RevisionSpec): KubernetesRuntimeSpec {
  if (spec.runtime?.kind !== 'kubernetes') throw new InputError('RUNTIME_NOT_SUPPORTED', `app "${spec.name}" does not use the kubernetes runtime`);
  return spec.runtime;
}

/** The user's pod template file, read at each create (a revision's template is the file as it was then). */
export function readPodTemplate(runtime: KubernetesRuntimeSpec): V1PodTemplateSpec | undefined {
  const path = runtime.podTemplate;
  if (path === null) return undefined;
  try {
    const parsed = parse(readFileSync(path, 'utf8')) as V1PodTemplateSpec & { template?: V1PodTemplateSpec };
    return parsed.template ?? parsed;
  } catch (error) {
    throw new InputError('POD_TEMPLATE_UNREADABLE', `cannot read the pod template ${path}: ${(error as Error).message}`, {
      hint: 'podTemplate names a YAML file with metadata and spec of a pod template',
      cause: error,
    });
  }
}

/** Ready means the Ready condition is True, the pod has an IP and is not being deleted. */
export function isPodReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (!pod.status?.podIP) return false;
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
