import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { FAILED_WAITING_REASONS, podFailure } from './pod-failure.js';

function pod(containers: Partial<V1ContainerStatus>[], extra: { init?: Partial<V1ContainerStatus>[]; isDeleted?: boolean } = {}): V1Pod {
  const full = (c: Partial<V1ContainerStatus>): V1ContainerStatus => ({ name: 'web', image: 'web:2', imageID: '', ready: false, restartCount: 0, ...c });
  return {
    metadata: { name: 'web-r3-abc', ...(extra.isDeleted ? { deletionTimestamp: new Date() } : {}) },
    status: { phase: 'Running', containerStatuses: containers.map(full), ...(extra.init ? { initContainerStatuses: extra.init.map(full) } : {}) },
  };
}

describe('podFailure', () => {
  it('a container in CrashLoopBackOff fails the pod, with its restarts and how it last exited', () => {
    const failure = podFailure(
      pod([
        {
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        },
      ]),
    );
    assert.equal(failure, 'pod web-r3-abc: container web CrashLoopBackOff after 4 restarts (last exit 1: Error)');
  });

  it('a crash loop killed by a signal says so, and one restart is singular', () => {
    const failure = podFailure(
      pod([
        { restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', signal: 9 } } },
      ]),
    );
    assert.equal(failure, 'pod web-r3-abc: container web CrashLoopBackOff after 1 restart (last exit 137: OOMKilled, signal 9)');
  });

  it("an image that cannot be pulled fails the pod at once, with the kubelet's message", () => {
    const failure = podFailure(pod([{ state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "web:nope"' } } }]));
    assert.equal(failure, 'pod web-r3-abc: container web ImagePullBackOff: Back-off pulling image "web:nope"');
  });

  it('every final waiting reason fails the pod; creating, initializing and running containers do not', () => {
    for (const reason of FAILED_WAITING_REASONS)
      assert.match(podFailure(pod([{ state: { waiting: { reason } } }])) ?? '', new RegExp(`container web ${reason}`), reason);
    assert.equal(podFailure(pod([{ state: { waiting: { reason: 'ContainerCreating' } } }])), null);
    assert.equal(podFailure(pod([{ state: { waiting: { reason: 'PodInitializing' } } }])), null);
    // Restarted before, running now (not ready yet): it may still come up.
    assert.equal(podFailure(pod([{ restartCount: 3, state: { running: { startedAt: new Date() } }, lastState: { terminated: { exitCode: 1 } } }])), null);
    assert.equal(podFailure({ metadata: { name: 'web-r3-new' }, status: { phase: 'Pending' } }), null);
  });

  it('names the failing container among several, and an init container before them', () => {
    const sidecar = { name: 'proxy', state: { running: {} } };
    const broken = { name: 'web', state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db" not found' } } };
    assert.equal(podFailure(pod([sidecar, broken])), 'pod web-r3-abc: container web CreateContainerConfigError: secret "db" not found');
    const init = [{ name: 'migrate', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }];
    assert.equal(
      podFailure(pod([{ state: { waiting: { reason: 'PodInitializing' } } }], { init })),
      'pod web-r3-abc: init container migrate CrashLoopBackOff after 2 restarts',
    );
  });

  it('a pod being deleted is on its way out, not failed', () => {
    assert.equal(podFailure(pod([{ state: { waiting: { reason: 'CrashLoopBackOff' } } }], { isDeleted: true })), null);
  });

  it('a long kubelet message is cut', () => {
    const failure = podFailure(pod([{ state: { waiting: { reason: 'ErrImagePull', message: 'x'.repeat(1000) } } }]))!;
    assert.ok(failure.length < 300 && failure.endsWith('…'), failure);
  });
});
