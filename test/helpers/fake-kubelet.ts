/**
 * Does the work of a scheduler and a kubelet for tests against a real kube-apiserver (as kwok
 * does): binds every pending pod of a namespace to the node `fake-node` (the Endpoints controller
 * needs a nodeName), then marks it Running and Ready with an IP of its own. `isReady` decides per
 * pod, so a test can keep a revision's pods from ever becoming ready. No container runs.
 *
 * `failure` makes a pod's first container fail as a kubelet reports it: a crash loop (waiting
 * CrashLoopBackOff, its restartCount rising every CRASH_EVERY_MS, lastState.terminated with the
 * exit code) or a waiting reason such as ImagePullBackOff. Such a pod is Running and not ready.
 *
 * @example
 * const kubelet = await FakeKubelet.start(core, 'shop', (pod) => pod.metadata?.labels?.['cutover.dev/revision'] !== '3');
 * const crashing = await FakeKubelet.start(core, 'shop', () => true, { failure: (pod) => (pod.spec?.containers[0]?.image === 'web:crash' ? { kind: 'crash-loop', exitCode: 1 } : null) });
 * await kubelet.stop();
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { MERGE_PATCH, statusOf } from '../../src/runtime/kubernetes/kube-clients.js';

export const FAKE_NODE = 'fake-node';
const PASS_EVERY_MS = 100;
/** A crash-looping container restarts this often (a real kubelet backs off from 10 s to 5 min). */
export const CRASH_EVERY_MS = 300;

/** How a pod's first container fails. */
export type ContainerFailure = { kind: 'crash-loop'; exitCode: number; reason?: string } | { kind: 'waiting'; reason: string; message?: string };

export interface FakeKubeletOptions {
  /** How a pod's first container fails, or null when it runs. Asked on every pass. */
  failure?: (pod: V1Pod) => ContainerFailure | null;
}

let nextIp = 1;

export class FakeKubelet {
  private isStopped = false;
  private loop: Promise<void> = Promise.resolve();
  /** Pods it marked ready, by name. */
  readonly readyPods = new Set<string>();
  private readonly ips = new Map<string, string>();
  /** Crash-looping pods by name: restarts so far and when the last one was. */
  private readonly crashes = new Map<string, { restarts: number; atMs: number }>();

  private constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
    private readonly isReady: (pod: V1Pod) => boolean,
    private readonly options: FakeKubeletOptions,
  ) {}

  static async start(
    core: CoreV1Api,
    namespace: string,
    isReady: (pod: V1Pod) => boolean = () => true,
    options: FakeKubeletOptions = {},
  ): Promise<FakeKubelet> {
    try {
      await core.createNode({ body: { metadata: { name: FAKE_NODE, labels: { 'kubernetes.io/hostname': FAKE_NODE } } } });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
    const kubelet = new FakeKubelet(core, namespace, isReady, options);
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
        await core.createNamespacedPodBinding({
          name,
          namespace,
          body: { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: FAKE_NODE } },
        });
      }
      const failure = this.options.failure?.(pod) ?? null;
      if (failure !== null) {
        await this.fail(pod, failure);
        continue;
      }
      const isReady = this.isReady(pod);
      const wasReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      if (pod.status?.phase === 'Running' && wasReady === isReady && !pod.status.containerStatuses?.some((c) => c.state?.waiting)) continue;
      // A pod that failed before and runs now: the failing statuses go (a merge patch deletes a null key).
      await this.patchRunning(pod, isReady, pod.status?.containerStatuses ? { containerStatuses: null } : {});
      if (isReady) this.readyPods.add(name);
    }
  }

  /** Reports the pod's first container as failing (the others running), not ready; a crash loop restarts on its own clock. */
  private async fail(pod: V1Pod, failure: ContainerFailure): Promise<void> {
    const name = pod.metadata!.name!;
    const nowMs = performance.now();
    const crash = this.crashes.get(name) ?? { restarts: 0, atMs: -Infinity };
    const isRestart = failure.kind === 'crash-loop' && nowMs - crash.atMs >= CRASH_EVERY_MS;
    if (isRestart) this.crashes.set(name, { restarts: crash.restarts + 1, atMs: nowMs });
    const [first] = pod.status?.containerStatuses ?? [];
    const isReported = first?.state?.waiting?.reason === (failure.kind === 'crash-loop' ? 'CrashLoopBackOff' : failure.reason);
    if (isReported && !isRestart) return;
    const now = new Date().toISOString();
    const restarts = this.crashes.get(name)?.restarts ?? 0;
    const containerStatuses = (pod.spec?.containers ?? []).map((container, index) => {
      const base = { name: container.name, image: container.image ?? '', imageID: '', started: false, ready: false, restartCount: 0 };
      if (index > 0) return { ...base, started: true, state: { running: { startedAt: now } } };
      if (failure.kind === 'waiting')
        return { ...base, state: { waiting: { reason: failure.reason, ...(failure.message ? { message: failure.message } : {}) } } };
      return {
        ...base,
        restartCount: restarts,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${container.name} in pod ${name}` } },
        lastState: { terminated: { exitCode: failure.exitCode, reason: failure.reason ?? 'Error', startedAt: now, finishedAt: now } },
      };
    });
    await this.patchRunning(pod, false, { containerStatuses }, { reason: 'ContainersNotReady' });
    this.readyPods.delete(name);
  }

  /** Marks the pod Running with an IP of its own (kept across passes) and its Ready conditions; `extra` goes into the status as it is. */
  private async patchRunning(pod: V1Pod, isReady: boolean, extra: Record<string, unknown>, notReady: { reason?: string } = {}): Promise<void> {
    const name = pod.metadata!.name!;
    const ip = this.ips.get(name) ?? `10.0.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;
    this.ips.set(name, ip);
    const now = new Date().toISOString();
    const condition = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastTransitionTime: now, ...(status ? {} : notReady) });
    await this.core.patchNamespacedPodStatus(
      {
        name,
        namespace: this.namespace,
        body: {
          status: {
            phase: 'Running',
            podIP: ip,
            podIPs: [{ ip }],
            hostIP: '127.0.0.1',
            startTime: pod.status?.startTime ?? now,
            conditions: [condition('PodScheduled', true), condition('Initialized', true), condition('ContainersReady', isReady), condition('Ready', isReady)],
            ...extra,
          },
        },
      },
      MERGE_PATCH,
    );
  }
}
