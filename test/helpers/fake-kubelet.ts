/**
 * Does the work of a scheduler and a kubelet for tests against a real kube-apiserver (as kwok
 * does): binds every pending pod of a namespace to the node `fake-node` (the Endpoints controller
 * needs a nodeName), then marks it Running and Ready with an IP of its own. `isReady` decides per
 * pod, so a test can keep a revision's pods from ever becoming ready. No container runs.
 *
 * @example
 * const kubelet = await FakeKubelet.start(core, 'shop', (pod) => pod.metadata?.labels?.['cutover.dev/revision'] !== '3');
 * await kubelet.stop();
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { MERGE_PATCH, statusOf } from '../../src/runtime/kubernetes/kube-clients.js';

export const FAKE_NODE = 'fake-node';
const PASS_EVERY_MS = 100;

let nextIp = 1;

export class FakeKubelet {
  private isStopped = false;
  private loop: Promise<void> = Promise.resolve();
  /** Pods it marked ready, by name. */
  readonly readyPods = new Set<string>();
  private readonly ips = new Map<string, string>();

  private constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
    private readonly isReady: (pod: V1Pod) => boolean,
  ) {}

  static async start(core: CoreV1Api, namespace: string, isReady: (pod: V1Pod) => boolean = () => true): Promise<FakeKubelet> {
    try {
      await core.createNode({ body: { metadata: { name: FAKE_NODE, labels: { 'kubernetes.io/hostname': FAKE_NODE } } } });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
    const kubelet = new FakeKubelet(core, namespace, isReady);
    kubelet.loop = kubelet.run();
    return kubelet;
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.isStopped) {
      try {
        await this.pass();
      } catch {
        // A pod deleted between the list and the write: the next pass sees the new state.
      }
      await sleep(PASS_EVERY_MS);
    }
  }

  private async pass(): Promise<void> {
    const { core, namespace } = this;
    const pods = await core.listNamespacedPod({ namespace });
    for (const pod of pods.items) {
      const name = pod.metadata!.name!;
      if (pod.metadata?.deletionTimestamp) {
        // No kubelet confirms the shutdown: finish the graceful deletion at once.
        await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
        continue;
      }
      if (!pod.spec?.nodeName) {
        await core.createNamespacedPodBinding({ name, namespace, body: { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: FAKE_NODE } } });
      }
      const isReady = this.isReady(pod);
      const wasReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      if (pod.status?.phase === 'Running' && wasReady === isReady) continue;
      const ip = this.ips.get(name) ?? `10.0.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;
      this.ips.set(name, ip);
      const now = new Date().toISOString();
      const condition = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastTransitionTime: now });
      await core.patchNamespacedPodStatus(
        {
          name,
          namespace,
          body: {
            status: {
              phase: 'Running',
              podIP: ip,
              podIPs: [{ ip }],
              hostIP: '127.0.0.1',
              startTime: now,
              conditions: [condition('PodScheduled', true), condition('Initialized', true), condition('ContainersReady', isReady), condition('Ready', isReady)],
            },
          },
        },
        MERGE_PATCH,
      );
      if (isReady) this.readyPods.add(name);
    }
  }
}
