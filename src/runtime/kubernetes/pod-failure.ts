import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

/**
 * Waiting reasons after which a container will not start by itself: the image cannot be had, the
 * container cannot be made from the spec, or it keeps exiting (the kubelet backs off between
 * restarts, from 10 s up to 5 min, and says CrashLoopBackOff meanwhile). The kubelet retries
 * each of them forever; a rollout that waited for it would wait until its progress deadline.
 * `ContainerCreating` and `PodInitializing` are not here: they pass by themselves.
 */
export const FAILED_WAITING_REASONS = [
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
] as const;

const MAX_DETAIL_LENGTH = 200;

/**
 * Why a pod will not become ready by itself, in words, or null while it may: the first of its
 * init containers, then of its containers, waiting for one of `FAILED_WAITING_REASONS`, with its
 * restarts and how it last exited (a crash loop) or the kubelet's message (an image pull).
 * A pod being deleted is not failed: it is on its way out.
 *
 * @example
 * podFailure(pod) // → 'pod web-r3-abc: container web CrashLoopBackOff after 4 restarts (last exit 1: Error)'
 */
export function podFailure(pod: V1Pod): string | null {
  if (pod.metadata?.deletionTimestamp) return null;
  const name = pod.metadata?.name ?? '?';
  const candidates: [string, V1ContainerStatus[] | undefined][] = [
    ['init container', pod.status?.initContainerStatuses],
    ['container', pod.status?.containerStatuses],
  ];
  for (const [kind, statuses] of candidates) {
    for (const status of statuses ?? []) {
      const failure = containerFailure(status);
      if (failure !== null) return `pod ${name}: ${kind} ${status.name} ${failure}`;
    }
  }
  return null;
}

function containerFailure(status: V1ContainerStatus): string | null {
  const waiting = status.state?.waiting;
  const reason = waiting?.reason;
  if (reason === undefined || !(FAILED_WAITING_REASONS as readonly string[]).includes(reason)) return null;
  if (reason === 'CrashLoopBackOff') {
    const restarts = status.restartCount ?? 0;
    const last = status.lastState?.terminated;
    const exit = last ? ` (last exit ${last.exitCode}${last.reason ? `: ${last.reason}` : ''}${last.signal ? `, signal ${last.signal}` : ''})` : '';
    return `${reason} after ${restarts} restart${restarts === 1 ? '' : 's'}${exit}`;
  }
  const message = waiting?.message?.trim();
  return message ? `${reason}: ${truncate(message)}` : reason;
}

function truncate(text: string): string {
  return text.length <= MAX_DETAIL_LENGTH ? text : `${text.slice(0, MAX_DETAIL_LENGTH - 1)}…`;
}
