import { setTimeout as sleep } from 'node:timers/promises';
import { APP_LABEL, kubernetesError, MERGE_PATCH, statusOf, type KubeClients } from './kube-clients.js';

/** The label a pod carries once cutover took it out of traffic, valued with its app: such a pod is only waited for, then deleted. */
export const LEAVING_LABEL = 'cutover.dev/leaving';

/** How long to wait for the endpoint controllers to drop a leaving pod before stopping it anyway (the pod's grace period still applies). */
const ENDPOINTS_TIMEOUT_MS = 30_000;
const POLL_MS = 200;
/**
 * After the Endpoints drop a pod, kube-proxy still has to rewrite its rules on every node, which
 * the API does not show; this margin covers that sync (milliseconds on an idle node).
 */
export const PROXY_SETTLE_MS = 1_000;

/**
 * Closes the race between a pod leaving a Service and the pod being told to stop. A ReplicaSet
 * scaled down deletes pods of its own choosing at once, and the kubelet sends SIGTERM while
 * kube-proxy may still route new connections there. Instead, the pods the plan stops are:
 * 1. `takeOut`: relabelled (the app label removed, `cutover.dev/leaving: APP` added): every
 *    Service of the app selects on the app label, so each drops them, and their ReplicaSet lets
 *    them go (its count is lowered right after, so it makes none in their place);
 * 2. `retire`: once no Endpoints object lists them (observed) and kube-proxy had `PROXY_SETTLE_MS`
 *    to sync, deleted: only now does their SIGTERM come, with the pod's grace period.
 * A controller that dies in between finds them by their label (`leavingPods`) and retires them.
 */
export class PodRetirement {
  constructor(
    private readonly clients: KubeClients,
    private readonly app: string,
    private readonly settleMs = PROXY_SETTLE_MS,
  ) {}

  async takeOut(pods: readonly string[]): Promise<void> {
    const { core, namespace } = this.clients;
    for (const name of pods) {
      try {
        await core.patchNamespacedPod({ name, namespace, body: { metadata: { labels: { [APP_LABEL]: null, [LEAVING_LABEL]: this.app } } } }, MERGE_PATCH);
      } catch (error) {
        if (statusOf(error) !== 404) throw kubernetesError(`taking pod ${namespace}/${name} out of traffic`, error);
      }
    }
  }

  /** Waits until no Endpoints list the pods (bounded), lets kube-proxy sync, then deletes them. */
  async retire(pods: readonly string[]): Promise<void> {
    if (pods.length === 0) return;
    const deadline = performance.now() + ENDPOINTS_TIMEOUT_MS;
    while (performance.now() < deadline && (await this.listedInEndpoints(pods)).length > 0) await sleep(POLL_MS);
    await sleep(this.settleMs);
    const { core, namespace } = this.clients;
    for (const name of pods) {
      try {
        await core.deleteNamespacedPod({ name, namespace });
      } catch (error) {
        if (statusOf(error) !== 404) throw kubernetesError(`deleting pod ${namespace}/${name}`, error);
      }
    }
  }

  /** Pods taken out of traffic and not deleted yet (a controller died in between), not being deleted already. */
  async leavingPods(): Promise<string[]> {
    const { core, namespace } = this.clients;
    try {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `${LEAVING_LABEL}=${this.app}` });
      return pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? '');
    } catch (error) {
      throw kubernetesError(`listing leaving pods of ${namespace}/${this.app}`, error);
    }
  }

  /** Those of `pods` that an Endpoints object in the namespace still lists (ready or not). */
  private async listedInEndpoints(pods: readonly string[]): Promise<string[]> {
    const { core, namespace } = this.clients;
    const endpoints = await core.listNamespacedEndpoints({ namespace }).catch((error: unknown) => {
      throw kubernetesError(`listing Endpoints in ${namespace}`, error);
    });
    const listed = new Set<string>();
    for (const item of endpoints.items)
      for (const subset of item.subsets ?? [])
        for (const address of [...(subset.addresses ?? []), ...(subset.notReadyAddresses ?? [])])
          if (address.targetRef?.kind === 'Pod' && address.targetRef.name) listed.add(address.targetRef.name);
    return pods.filter((p) => listed.has(p));
  }
}
