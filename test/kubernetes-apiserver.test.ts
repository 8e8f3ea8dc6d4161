/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read stored objects as untyped JSON */
/**
 * The Kubernetes runtime and router against a real kube-apiserver and kube-controller-manager
 * (v1.20.2 built from Debian's source package) with etcd: real validation, defaulting, the
 * ReplicaSet, Endpoints and garbage-collection controllers. Pods are bound and made ready by a
 * fake kubelet; nothing routes traffic by the HTTPRoute (no Gateway controller), and CRD CEL
 * rules are not enforced at this API level.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import type { AppSpec } from '../src/model/spec.js';
import type { RevisionGroup, TrafficPlan } from '../src/model/traffic-plan.js';
import { KubernetesRouter } from '../src/router/kubernetes/kubernetes-router.js';
import { HTTP_ROUTE_API } from '../src/router/kubernetes/http-route-rules.js';
import { createKubeClients, MERGE_PATCH, type KubeClients } from '../src/runtime/kubernetes/kube-clients.js';
import { KubernetesRuntime } from '../src/runtime/kubernetes/kubernetes-runtime.js';
import { isTerminalPhase } from '../src/model/rollout.js';
import type { Controller } from '../src/controller/controller.js';
import { parseConfig } from '../src/spec/index.js';
import type { SqliteStore } from '../src/store/sqlite-store.js';
import { leaseHolderFor } from '../src/controller/revision-backend.js';
import { KubernetesLease, ROLLOUT_ANNOTATION } from '../src/runtime/kubernetes/kubernetes-lease.js';
import { FakeKubelet } from './helpers/fake-kubelet.js';
import { runCli } from './helpers/daemon-fixture.js';
import { endpointIps, eventually, podIps as podIpsIn, startKubeController, type KubeController } from './helpers/kube-test-kit.js';
import { KUBE_API_LEVEL, KubeControlPlane, kubeControlPlaneSkip } from './helpers/kube-control-plane.js';

const NAMESPACE = 'shop';
const SPEC: Pick<AppSpec, 'name' | 'health' | 'runtime'> = {
  name: 'web',
  health: { path: '/healthz', intervalMs: 2000, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 3, startupTimeoutMs: 60_000 },
  runtime: { kind: 'kubernetes', context: null, namespace: NAMESPACE, image: 'registry.example/web:1.4.2', port: 8080, podTemplate: null },
};
/** Pods of this revision never become ready. */
const NEVER_READY_REVISION = '9';

function plan(groups: Pick<RevisionGroup, 'revision' | 'weight'>[], extra: Partial<TrafficPlan> = {}): TrafficPlan {
  return { app: 'web', version: 1, listen: { host: '0.0.0.0', port: 80 }, groups: groups.map((g) => ({ ...g, endpoints: [] })), ...extra };
}

// One control plane for the file (it takes seconds to start); a namespace per suite.
let plane: KubeControlPlane;
before(async () => {
  if (!kubeControlPlaneSkip) plane = await KubeControlPlane.start(fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-kube-')));
});
after(async () => {
  await plane?.stop();
});

describe(`Kubernetes runtime and router against ${KUBE_API_LEVEL}`, { skip: kubeControlPlaneSkip }, () => {
  let clients: KubeClients;
  let kubelet: FakeKubelet;
  let runtime: KubernetesRuntime;

  const readyIps = async (revision: number) => ((await runtime.observe()).find((r) => r.revision === revision)?.readyEndpoints ?? []).map((e) => e.host).sort();
  const endpointIps = async (service: string) => {
    const endpoints = await clients.core.readNamespacedEndpoints({ name: service, namespace: NAMESPACE }).catch(() => null);
    return (endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
  };

  before(async () => {
    await plane.createNamespace(NAMESPACE);
    clients = createKubeClients({ server: plane.server, token: plane.token, namespace: NAMESPACE });
    kubelet = await FakeKubelet.start(clients.core, NAMESPACE, (pod) => pod.metadata?.labels?.['cutover.dev/revision'] !== NEVER_READY_REVISION);
    runtime = new KubernetesRuntime(clients, SPEC);
  });
  after(async () => {
    await kubelet?.stop();
  });

  it('a revision becomes a ReplicaSet the server accepts; the ReplicaSet controller makes its pods, and ready pods are its endpoints', async () => {
    await runtime.ensureRevision(1, 3);
    const ips = await eventually(
      'three ready pods of revision 1',
      () => readyIps(1),
      (list) => list.length === 3,
    );
    assert.equal(new Set(ips).size, 3);
    const replicaSet = await clients.apps.readNamespacedReplicaSet({ name: 'web-r1', namespace: NAMESPACE });
    // Defaulted by the server: the probe cutover wrote is complete enough to be kept as is.
    assert.equal(replicaSet.spec?.template?.spec?.containers[0]?.readinessProbe?.httpGet?.path, '/healthz');
  });

  it('scaling a revision down leaves that many pods, and ensuring it again is idempotent', async () => {
    await runtime.ensureRevision(1, 2);
    await runtime.scaleRevision(1, 2);
    await eventually(
      'two pods of revision 1',
      async () => (await runtime.observe()).find((r) => r.revision === 1),
      (r) => r !== undefined && r.readyEndpoints.length === 2 && r.unreadyPods.length === 0,
    );
  });

  it('blue-green: the Service selector switch moves its Endpoints from the blue pods to the green ones', async () => {
    const router = new KubernetesRouter(clients, { app: 'web', service: 'web', httpRoute: null, port: 8080 });
    await router.applyPlan(plan([{ revision: 1, weight: 100 }]));
    const blue = await readyIps(1);
    await eventually(
      'the Service endpoints on blue',
      () => endpointIps('web'),
      (ips) => JSON.stringify(ips) === JSON.stringify(blue),
    );

    await runtime.ensureRevision(2, 2);
    const green = await eventually(
      'two ready pods of revision 2',
      () => readyIps(2),
      (list) => list.length === 2,
    );
    await router.applyPlan(
      plan([
        { revision: 1, weight: 0 },
        { revision: 2, weight: 100 },
      ]),
    );
    await eventually(
      'the Service endpoints on green',
      () => endpointIps('web'),
      (ips) => JSON.stringify(ips) === JSON.stringify(green),
    );
  });

  it('canary: the HTTPRoute (our CRD, no CEL) stores the weights and header matches, and the server rejects a negative weight', async () => {
    await plane.installHttpRouteCrd();
    await clients.custom.createNamespacedCustomObject({
      ...HTTP_ROUTE_API,
      namespace: NAMESPACE,
      body: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web' }, spec: { parentRefs: [{ name: 'gw' }], rules: [] } },
    });
    const router = new KubernetesRouter(clients, { app: 'web', service: 'web', httpRoute: 'web', port: 8080 });
    await router.applyPlan(
      plan(
        [
          { revision: 1, weight: 90 },
          { revision: 2, weight: 10 },
        ],
        { routes: [{ revision: 2, match: { header: { name: 'x-beta', value: '1' } } }] },
      ),
    );
    const route = (await clients.custom.getNamespacedCustomObject({ ...HTTP_ROUTE_API, namespace: NAMESPACE, name: 'web' })) as any;
    assert.deepEqual(route.spec.parentRefs, [{ name: 'gw' }]);
    assert.deepEqual(route.spec.rules.at(-1).backendRefs, [
      { name: 'web-r1', port: 8080, weight: 90 },
      { name: 'web-r2', port: 8080, weight: 10 },
    ]);
    assert.deepEqual(route.spec.rules[0].matches, [{ headers: [{ type: 'Exact', name: 'x-beta', value: '1' }] }]);
    // The per-revision Service of the canary really selects its pods.
    await eventually(
      'endpoints of web-r2',
      () => endpointIps('web-r2'),
      (ips) => ips.length === 2,
    );

    await assert.rejects(
      clients.custom.patchNamespacedCustomObject(
        { ...HTTP_ROUTE_API, namespace: NAMESPACE, name: 'web', body: { spec: { rules: [{ backendRefs: [{ name: 'web-r1', port: 8080, weight: -5 }] }] } } },
        MERGE_PATCH,
      ),
      (error: unknown) => error instanceof ApiException && error.code === 422,
    );
  });

  it('a revision whose pods never become ready reports them as unready, not as endpoints', async () => {
    await runtime.ensureRevision(Number(NEVER_READY_REVISION), 2);
    const observed = await eventually(
      'two unready pods of the never-ready revision',
      async () => (await runtime.observe()).find((r) => String(r.revision) === NEVER_READY_REVISION),
      (r) => r !== undefined && r.unreadyPods.length === 2,
    );
    assert.deepEqual(observed?.readyEndpoints, []);
  });

  it('removing a revision deletes its ReplicaSet, and the garbage collector its pods', async () => {
    await runtime.removeRevision(1);
    await runtime.removeRevision(1);
    await eventually(
      'no pods of revision 1',
      async () => (await clients.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'cutover.dev/revision=1' })).items.length,
      (n) => n === 0,
    );
    assert.equal(
      (await runtime.observe()).some((r) => r.revision === 1),
      false,
    );
  });
});

describe(`the controller rolls out a kubernetes app on ${KUBE_API_LEVEL}`, { skip: kubeControlPlaneSkip }, () => {
  const namespace = 'rollouts';
  let kube: KubeController;
  let store: SqliteStore;
  let controller: Controller;
  let kubelet: FakeKubelet;
  let clients: KubeClients;

  const spec = (image: string, strategy: string): AppSpec =>
    parseConfig(
      `apps:\n  web:\n    replicas: 2\n    runtime: { kubernetes: { namespace: ${namespace}, image: ${image}, port: 8080 } }\n    strategy: ${strategy}\n`,
      '/srv/cutover.yaml',
    ).apps[0]!;
  const ended = (id: number) =>
    eventually(
      `rollout ${id} ends`,
      async () => store.getRollout(id)!,
      (r) => isTerminalPhase(r.phase),
    );
  const podIps = (revision: number) => podIpsIn(clients, revision);
  const serviceIps = () => endpointIps(clients, 'web');

  before(async () => {
    await plane.createNamespace(namespace);
    clients = createKubeClients({ server: plane.server, token: plane.token, namespace });
    kubelet = await FakeKubelet.start(clients.core, namespace, (pod) => pod.spec?.containers[0]?.image !== 'web:broken');
    kube = await startKubeController(plane.kubeconfigPath, 'cutover-kube-controller-');
    ({ controller, store } = kube);
  });
  after(async () => {
    await kube?.close();
    await kubelet?.stop();
  });

  it('a first deploy creates the ReplicaSet and the Service, whose Endpoints are the ready pods', async () => {
    const rollout = controller.deploy([spec('web:1', '{ rolling: {} }')])[0]!;
    assert.equal((await ended(rollout.rolloutId!)).phase, 'promoted');
    const ips = await podIps(1);
    assert.equal(ips.length, 2);
    await eventually('the Service endpoints on revision 1', serviceIps, (list) => JSON.stringify(list) === JSON.stringify(ips));
    // The server takes the Lease with its MicroTime, and the annotation says where the rollout stands.
    const lease = await eventually(
      'the Lease records the promoted rollout',
      () => clients.coordination.readNamespacedLease({ name: 'cutover-web', namespace }),
      (l) => JSON.parse(l.metadata?.annotations?.[ROLLOUT_ANNOTATION] ?? '{}').phase === 'promoted',
    );
    assert.equal(lease.spec?.holderIdentity, leaseHolderFor(kube.dir), 'the holder is this machine and data dir');
    const other = await new KubernetesLease(clients, 'web', 'someone-else').hold(null);
    assert.equal(other.isHeld, false, 'a second cutover is refused the app');
  });

  it('blue-green: the promote moves the Service endpoints to green, and blue is scaled to zero', async () => {
    const rollout = controller.deploy([spec('web:2', '{ blueGreen: { scaleDownDelay: 0s } }')])[0]!;
    await eventually(
      'the switch gate',
      async () => store.getRollout(rollout.rolloutId!)!,
      (r) => r.gate !== null,
    );
    const green = await podIps(2);
    assert.equal(green.length, 2);
    assert.notDeepEqual(await serviceIps(), green, 'blue serves until the promote');
    await controller.promote('web');
    assert.equal((await ended(rollout.rolloutId!)).phase, 'promoted');
    await eventually('the Service endpoints on green', serviceIps, (list) => JSON.stringify(list) === JSON.stringify(green));
    await eventually(
      'no pods of blue',
      () => podIps(1),
      (list) => list.length === 0,
    );
  });

  it('a revision whose pods never become ready is rolled back at its progress deadline; the Service never leaves the stable pods', async () => {
    const stable = await serviceIps();
    const rollout = controller.deploy([spec('web:broken', '{ rolling: { progressDeadline: 2s } }')])[0]!;
    const result = await ended(rollout.rolloutId!);
    assert.equal(result.phase, 'rolled-back');
    assert.match(result.reason ?? '', /progress deadline/);
    assert.deepEqual(await serviceIps(), stable);
    await eventually(
      'the broken revision scaled to zero',
      async () => (await clients.apps.readNamespacedReplicaSet({ name: `web-r${rollout.revision}`, namespace })).spec?.replicas,
      (n) => n === 0,
    );
  });
});

describe(`the cutover CLI drives a kubernetes app on ${KUBE_API_LEVEL} through KUBECONFIG`, { skip: kubeControlPlaneSkip }, () => {
  const namespace = 'cli';
  let dir: string;
  let kubelet: FakeKubelet;
  let clients: KubeClients;
  const config = (image: string) =>
    `metrics: { listen: false }\napps:\n  web:\n    replicas: 2\n    runtime: { kubernetes: { namespace: ${namespace}, image: ${image}, port: 8080 } }\n    strategy: { blueGreen: { autoPromote: 0s, scaleDownDelay: 0s } }\n`;
  const cli = (...args: string[]) => runCli([...args, '-c', path.join(dir, 'cutover.yaml')], { env: { KUBECONFIG: plane.kubeconfigPath } });
  const selected = async () => (await clients.core.readNamespacedService({ name: 'web', namespace })).spec?.selector?.['cutover.dev/revision'];

  before(async () => {
    await plane.createNamespace(namespace);
    clients = createKubeClients({ server: plane.server, token: plane.token, namespace });
    kubelet = await FakeKubelet.start(clients.core, namespace);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-kube-cli-'));
  });
  after(async () => {
    await cli('down');
    await kubelet?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('up, deploy (blue-green), status with the pods, rollback and down, with the exit codes of local apps', async () => {
    fs.writeFileSync(path.join(dir, 'cutover.yaml'), config('web:1'));
    const up = await cli('up', '--detach');
    assert.equal(up.code, 0, up.stderr);
    assert.equal(await selected(), '1');

    fs.writeFileSync(path.join(dir, 'cutover.yaml'), config('web:2'));
    const deployed = await cli('deploy');
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /revision 2: created with 2 replicas/);
    assert.equal(await selected(), '2');

    const status = JSON.parse((await cli('status', '--json')).stdout) as {
      apps: { revision: number; instances: { revision: number; state: string; pid: number | null }[] }[];
    };
    assert.equal(status.apps[0]!.revision, 2);
    assert.deepEqual(
      status.apps[0]!.instances.map((i) => `${i.revision}:${i.state}:${i.pid}`),
      ['2:ready:null', '2:ready:null'],
    );

    const rolledBack = await cli('rollback', 'web');
    assert.equal(rolledBack.code, 0, rolledBack.stderr);
    assert.equal(await selected(), '1');

    const down = await cli('down');
    assert.equal(down.code, 0, down.stderr);
    // The pods outlive the daemon: a cluster app keeps running without cutover.
    assert.equal((await clients.apps.readNamespacedReplicaSet({ name: 'web-r1', namespace })).spec?.replicas, 2);
    await assert.rejects(
      clients.coordination.readNamespacedLease({ name: 'cutover-web', namespace }),
      (error: unknown) => error instanceof ApiException && error.code === 404,
    );
  });
});
