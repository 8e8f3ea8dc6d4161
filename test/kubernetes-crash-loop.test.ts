/**
 * Pods that will never become ready by themselves, against a real kube-apiserver and
 * kube-controller-manager (v1.20.2, Debian source build): the fake kubelet reports a container in
 * CrashLoopBackOff with its restarts rising, or waiting in ImagePullBackOff, through the real
 * pods/status subresource, and the controller must fail the rollout on that at once. Every
 * rollout here has a progress deadline of 10 minutes, far beyond the waits of the test: a rollout
 * that ends did not end at its deadline.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { Controller } from '../src/controller/controller.js';
import { isTerminalPhase } from '../src/model/rollout.js';
import type { AppSpec } from '../src/model/spec.js';
import { createKubeClients, type KubeClients } from '../src/runtime/kubernetes/kube-clients.js';
import { parseConfig } from '../src/spec/index.js';
import type { SqliteStore } from '../src/store/sqlite-store.js';
import { FakeKubelet, type ContainerFailure } from './helpers/fake-kubelet.js';
import { endpointIps, eventually, podIps as podIpsIn, startKubeController, type KubeController } from './helpers/kube-test-kit.js';
import { KUBE_API_LEVEL, KubeControlPlane, kubeControlPlaneSkip } from './helpers/kube-control-plane.js';

const NAMESPACE = 'crashes';

let plane: KubeControlPlane;
before(async () => {
  if (!kubeControlPlaneSkip) plane = await KubeControlPlane.start(fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-kube-crash-')));
});
after(async () => {
  await plane?.stop();
});

describe(`crash-looping and unpullable pods fail a rollout at once on ${KUBE_API_LEVEL}`, { skip: kubeControlPlaneSkip }, () => {
  let kube: KubeController;
  let store: SqliteStore;
  let controller: Controller;
  let kubelet: FakeKubelet;
  let clients: KubeClients;
  /** Pods told to crash-loop by name, whatever their image. */
  const crashingPods = new Set<string>();

  const failureOf = (pod: V1Pod): ContainerFailure | null => {
    const image = pod.spec?.containers[0]?.image;
    if (image === 'web:crash' || crashingPods.has(pod.metadata?.name ?? '')) return { kind: 'crash-loop', exitCode: 1 };
    if (image === 'web:nope') return { kind: 'waiting', reason: 'ImagePullBackOff', message: 'Back-off pulling image "web:nope"' };
    return null;
  };
  const spec = (image: string): AppSpec =>
    parseConfig(
      `apps:\n  web:\n    replicas: 2\n    runtime: { kubernetes: { namespace: ${NAMESPACE}, image: ${image}, port: 8080 } }\n    strategy: { rolling: { maxSurge: 1, maxUnavailable: 0, progressDeadline: 10m } }\n`,
      '/srv/cutover.yaml',
    ).apps[0]!;
  const deploy = (image: string): number => controller.deploy([spec(image)])[0]!.rolloutId!;
  const ended = (id: number) =>
    eventually(
      `rollout ${id} ends`,
      () => store.getRollout(id)!,
      (r) => isTerminalPhase(r.phase),
    );
  const replicasOf = async (revision: number) =>
    (await clients.apps.readNamespacedReplicaSet({ name: `web-r${revision}`, namespace: NAMESPACE })).spec?.replicas;
  const podIps = (revision: number) => podIpsIn(clients, revision);
  const serviceIps = () => endpointIps(clients, 'web');

  before(async () => {
    await plane.createNamespace(NAMESPACE);
    clients = createKubeClients({ server: plane.server, token: plane.token, namespace: NAMESPACE });
    kubelet = await FakeKubelet.start(clients.core, NAMESPACE, () => true, { failure: failureOf });
    kube = await startKubeController(plane.kubeconfigPath, 'cutover-kube-crash-controller-');
    ({ controller, store } = kube);
  });
  after(async () => {
    await kube?.close();
    await kubelet?.stop();
  });

  it("a first deploy whose image cannot be pulled fails with the kubelet's reason, and its ReplicaSet is scaled to zero", async () => {
    const rollout = await ended(deploy('web:nope'));
    assert.equal(rollout.phase, 'failed');
    assert.match(rollout.reason ?? '', /^pod web-r1-\w+: container web ImagePullBackOff: Back-off pulling image "web:nope"$/);
    await eventually(
      'revision 1 scaled to zero',
      () => replicasOf(1),
      (n) => n === 0,
    );
  });

  it('a new revision whose pods crash-loop is rolled back with the restarts and exit code, and the Service never leaves the stable pods', async () => {
    assert.equal((await ended(deploy('web:1'))).phase, 'promoted');
    const stable = await podIps(2);
    await eventually('the Service on the stable pods', serviceIps, (ips) => ips.length === 2 && JSON.stringify(ips) === JSON.stringify(stable));

    const id = deploy('web:crash');
    const rollout = await ended(id);
    assert.equal(rollout.phase, 'rolled-back');
    assert.match(rollout.reason ?? '', /^pod web-r3-\w+: container web CrashLoopBackOff after \d+ restarts? \(last exit 1: Error\)$/);
    assert.doesNotMatch(rollout.reason ?? '', /deadline/);
    const failed = store.listEvents({ rolloutId: id }).find((e) => e.kind === 'instance-failed');
    assert.match(failed?.message ?? '', /^revision 3: pod web-r3-\w+: container web CrashLoopBackOff/);
    assert.deepEqual(await serviceIps(), stable);
    await eventually(
      'the crashing revision scaled to zero',
      () => replicasOf(3),
      (n) => n === 0,
    );
    assert.equal(await replicasOf(2), 2);
    assert.equal(store.stableRevision('web'), 2);
  });

  it('a stable pod that starts to crash-loop is shown failed with its reason, and rolls nothing back', async () => {
    const [victim] = (await clients.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'cutover.dev/revision=2' })).items.map(
      (p) => p.metadata!.name!,
    );
    assert.ok(victim);
    const latest = store.listRollouts('web', 1)[0]!;
    crashingPods.add(victim);
    try {
      const instances = await eventually(
        'status shows the crash-looping pod',
        () => controller.status('web').apps[0]!.instances,
        (list) => list.some((i) => i.id === victim && i.state === 'failed'),
      );
      const shown = instances.find((i) => i.id === victim)!;
      assert.match(shown.reason ?? '', new RegExp(`^pod ${victim}: container web CrashLoopBackOff after \\d+ restarts? \\(last exit 1: Error\\)$`));
      assert.ok(store.listEvents({ app: 'web' }).some((e) => e.kind === 'instance-failed' && e.message.startsWith(`revision 2: pod ${victim}:`)));
      // Nothing was started or judged by it: the last rollout is the same, revision 2 stays stable at its size.
      assert.deepEqual(
        store.listRollouts('web', 1).map((r) => [r.id, r.phase]),
        [[latest.id, latest.phase]],
      );
      assert.equal(store.stableRevision('web'), 2);
      assert.equal(await replicasOf(2), 2);
    } finally {
      crashingPods.delete(victim);
    }
    await eventually(
      'the pod shown ready again once it runs',
      () => controller.status('web').apps[0]!.instances,
      (list) => list.some((i) => i.id === victim && i.state === 'ready' && i.reason === undefined),
    );
  });
});
