/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read stored objects as untyped JSON */
/**
 * The controller drives a kubernetes app through the revision runtime (ReplicaSet replica counts)
 * and the Kubernetes router, with the same planners as local apps, against the fake API server
 * (a fake ReplicaSet controller makes the pods). The real-apiserver suite is in test/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../../test/helpers/fake-kube-api.js';
import { fakeReplicaSets } from '../../test/helpers/fake-replica-sets.js';
import type { AppSpec } from '../model/app-spec.js';
import { isTerminalPhase } from '../model/rollout.js';
import { createKubeClients, type KubeClients } from '../runtime/kubernetes/kube-clients.js';
import { ROLLOUT_ANNOTATION } from '../fleet/cluster/kubernetes-lease.js';
import { LocalRuntime } from '../runtime/local/local-runtime.js';
import { parseConfig, specHash } from '../config/index.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { RolloutRecord } from '../model/records.js';
import { Controller } from './controller.js';
import { kubernetesBackend } from '../fleet/cluster/kubernetes-backend.js';
import { leaseHolderFor } from '../fleet/cluster/revision-backend.js';

const RS = '/apis/apps/v1/namespaces/shop/replicasets';
const SERVICES = '/api/v1/namespaces/shop/services';
const ROUTES = '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes';
const WAIT_MS = 20_000;

function appSpec(image: string, strategy: string, extra = '', podTemplate: string | null = null): AppSpec {
  const yaml = `
apps:
  web:
    replicas: 3
    runtime:
      kubernetes: { namespace: shop, image: ${image}, port: 8080${podTemplate === null ? '' : `, podTemplate: ${podTemplate}`} }
    router:
      kubernetes: { service: web${extra.includes('httpRoute') ? ', httpRoute: web' : ''} }
    strategy: ${strategy}
`;
  return parseConfig(yaml, '/srv/shop/cutover.yaml').apps[0]!;
}

/**
 * Plays a kubelet whose containers fail, on the fake API server: the pods of `revision` get a
 * container status waiting for `reason` (a crash loop with rising restarts, or an image pull) and
 * are not ready. `podLimit` caps how many of them fail. Runs until stopped.
 */
function failPods(api: FakeKubeApi, revision: number, reason: 'CrashLoopBackOff' | 'ImagePullBackOff', podLimit = Infinity): { stop(): void } {
  let restarts = 0;
  const failing = new Set<string>();
  const timer = setInterval(() => {
    restarts += 1;
    for (const [path, pod] of api.objects) {
      if (!path.startsWith('/api/v1/namespaces/shop/pods/') || pod.metadata.labels?.['cutover.dev/revision'] !== String(revision)) continue;
      if (!failing.has(path) && failing.size >= podLimit) continue;
      failing.add(path);
      const waiting =
        reason === 'CrashLoopBackOff'
          ? { reason, message: 'back-off 10s restarting failed container' }
          : { reason, message: 'Back-off pulling image "web:nope"' };
      const container = {
        name: 'web',
        image: 'web',
        imageID: '',
        ready: false,
        restartCount: reason === 'CrashLoopBackOff' ? restarts : 0,
        state: { waiting },
        ...(reason === 'CrashLoopBackOff' ? { lastState: { terminated: { exitCode: 1, reason: 'Error' } } } : {}),
      };
      const status = pod['status'] as Record<string, unknown>;
      pod['status'] = {
        ...status,
        conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: new Date().toISOString() }],
        containerStatuses: [container],
      };
    }
  }, 20);
  return { stop: () => clearInterval(timer) };
}

async function waitFor<T>(what: string, read: () => T | Promise<T>, isDone: (value: T) => boolean): Promise<T> {
  const deadline = performance.now() + WAIT_MS;
  for (;;) {
    const value = await read();
    if (isDone(value)) return value;
    if (performance.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await sleep(20);
  }
}

describe('the controller drives a kubernetes app (fake API server)', () => {
  let api: FakeKubeApi;
  let store: SqliteStore;
  let controller: Controller;
  let pods: { stop(): void };
  let dir: string;
  let clients: KubeClients;
  const neverReady = new Set<number>();
  const logs: string[] = [];

  const replicas = (revision: number) => (api.objects.get(`${RS}/web-r${revision}`) as any)?.spec.replicas as number | undefined;
  const selector = () => (api.objects.get(`${SERVICES}/web`) as any)?.spec.selector as Record<string, string> | undefined;
  const settled = (id: number) =>
    waitFor(
      `rollout ${id} ends`,
      () => store.getRollout(id)!,
      (r) => isTerminalPhase(r.phase),
    );
  const deploy = (spec: AppSpec): RolloutRecord => store.getRollout(controller.deploy([spec])[0]!.rolloutId!)!;

  /** A second cutover on the same cluster, as from another machine: a data dir and a Lease holder of its own. */
  const anotherCutover = () => {
    const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-k8s-second-'));
    const otherStore = new SqliteStore(path.join(otherDir, 'state.db'));
    const other = new Controller({
      store: otherStore,
      runtime: new LocalRuntime(),
      router: { applyPlan: async () => {}, removeApp: async () => {}, inflight: async () => ({}) },
      dataDir: otherDir,
      specHash,
      revisionBackend: (spec, onNotice) => kubernetesBackend(spec, onNotice, { clients, holder: leaseHolderFor(otherDir) }),
    });
    const close = async () => {
      await other.shutdown();
      otherStore.close();
      fs.rmSync(otherDir, { recursive: true, force: true });
    };
    return { controller: other, store: otherStore, dir: otherDir, close };
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-k8s-controller-'));
    api = await startFakeKubeApi();
    neverReady.clear();
    pods = fakeReplicaSets(api, 'shop', (revision) => !neverReady.has(revision));
    store = new SqliteStore(path.join(dir, 'state.db'));
    clients = createKubeClients({ server: api.url, namespace: 'shop' });
    logs.length = 0;
    controller = new Controller({
      store,
      log: (line) => logs.push(line),
      runtime: new LocalRuntime(),
      router: { applyPlan: async () => assert.fail('a kubernetes app must not reach the local router'), removeApp: async () => {}, inflight: async () => ({}) },
      dataDir: dir,
      specHash,
      revisionBackend: (spec, onNotice) => kubernetesBackend(spec, onNotice, { clients, holder: leaseHolderFor(dir) }),
    });
    await controller.start();
  });
  afterEach(async () => {
    const rejected = [...api.rejected];
    await controller.shutdown();
    pods.stop();
    store.close();
    await api.close();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(rejected, [], 'the provider sent only objects the schemas accept');
  });

  it('a first deploy creates the revision ReplicaSet at full size and points the Service at it once its pods are ready', async () => {
    const rollout = deploy(appSpec('web:1', '{ rolling: {} }'));
    assert.equal((await settled(rollout.id)).phase, 'promoted');
    assert.equal(replicas(1), 3);
    assert.deepEqual(selector(), { 'app.kubernetes.io/name': 'web', 'cutover.dev/revision': '1' });
    assert.equal((api.objects.get(`${RS}/web-r1`) as any).spec.template.spec.containers[0].image, 'web:1');
    const status = await waitFor(
      'status lists the pods',
      () => controller.status('web').apps[0]!,
      (app) => app.instances.length === 3,
    );
    assert.ok(
      status.instances.every((i) => i.state === 'ready' && i.revision === 1 && i.pid === null && i.id.startsWith('web-r1-')),
      JSON.stringify(status.instances),
    );
  });

  it('rolling: the new revision grows and the old one shrinks by the planner, until only the new one runs', async () => {
    await settled(deploy(appSpec('web:1', '{ rolling: {} }')).id);
    const rollout = deploy(appSpec('web:2', '{ rolling: { maxSurge: 1, maxUnavailable: 0 } }'));
    const seen = new Set<string>();
    const ended = await waitFor(
      'rolling ends',
      () => {
        seen.add(`${replicas(1)}/${replicas(2) ?? 0}`);
        return store.getRollout(rollout.id)!;
      },
      (r) => isTerminalPhase(r.phase),
    );
    assert.equal(ended.phase, 'promoted');
    assert.equal(replicas(1), 0);
    assert.equal(replicas(2), 3);
    // maxSurge 1, maxUnavailable 0: never more than 4 replicas in all, never fewer than 3.
    for (const pair of seen) {
      const [old, next] = pair.split('/').map(Number) as [number, number];
      assert.ok(old + next <= 4 && old + next >= 3, `replicas ${pair} break the surge arithmetic (seen: ${[...seen].join(' ')})`);
    }
  });

  it('blue-green: green comes up at full size beside blue, and the promote switches the Service selector', async () => {
    await settled(deploy(appSpec('web:1', '{ rolling: {} }')).id);
    const rollout = deploy(appSpec('web:2', '{ blueGreen: { scaleDownDelay: 0s } }'));
    await waitFor(
      'the switch gate',
      () => store.getRollout(rollout.id)!,
      (r) => r.gate !== null,
    );
    assert.equal(replicas(2), 3);
    assert.equal(selector()?.['cutover.dev/revision'], '1', 'blue serves until the promote');
    await controller.promote('web');
    assert.equal((await settled(rollout.id)).phase, 'promoted');
    assert.equal(selector()?.['cutover.dev/revision'], '2');
    await waitFor(
      'blue scaled to zero',
      () => replicas(1),
      (n) => n === 0,
    );
  });

  it('canary with an HTTPRoute: the step weight goes to the route, and a promote sends everything to the canary', async () => {
    api.put(ROUTES, { metadata: { name: 'web' }, spec: { parentRefs: [{ name: 'gw' }], rules: [] } });
    await settled(deploy(appSpec('web:1', '{ rolling: {} }', 'httpRoute')).id);
    const rollout = deploy(appSpec('web:2', '{ canary: { steps: [ { setWeight: 20 }, { pause: {} } ] } }', 'httpRoute'));
    const weights = () => ((api.objects.get(`${ROUTES}/web`) as any).spec.rules.at(-1)?.backendRefs ?? []).map((b: any) => `${b.name}=${b.weight}`).join(' ');
    await waitFor('the canary weight on the route', weights, (w) => w === 'web-r2=20 web-r1=80' || w === 'web-r1=80 web-r2=20');
    await controller.promote('web', { full: true });
    assert.equal((await settled(rollout.id)).phase, 'promoted');
    await waitFor('all traffic on the canary', weights, (w) => w === 'web-r2=3');
    await waitFor(
      'the stable revision scaled to zero',
      () => replicas(1),
      (n) => n === 0,
    );
  });

  it('a revision whose pods never become ready is rolled back at its progress deadline, and the stable one keeps serving', async () => {
    await settled(deploy(appSpec('web:1', '{ rolling: {} }')).id);
    neverReady.add(2);
    const rollout = deploy(appSpec('web:broken', '{ rolling: { progressDeadline: 1s } }'));
    const ended = await settled(rollout.id);
    assert.equal(ended.phase, 'rolled-back');
    assert.match(ended.reason ?? '', /progress deadline/);
    await waitFor(
      'the broken revision scaled to zero',
      () => replicas(2),
      (n) => n === 0,
    );
    assert.equal(replicas(1), 3);
    assert.deepEqual(selector(), { 'app.kubernetes.io/name': 'web', 'cutover.dev/revision': '1' });
  });

  it('a revision whose pods crash-loop is rolled back at once with the reason, long before its progress deadline', async () => {
    await settled(deploy(appSpec('web:1', '{ rolling: {} }')).id);
    neverReady.add(2);
    const crashing = failPods(api, 2, 'CrashLoopBackOff');
    try {
      const rollout = deploy(appSpec('web:crash', '{ rolling: { progressDeadline: 10m } }'));
      const ended = await settled(rollout.id);
      assert.equal(ended.phase, 'rolled-back');
      assert.match(ended.reason ?? '', /^pod web-r2-\w+: container web CrashLoopBackOff after \d+ restarts? \(last exit 1: Error\)$/);
      await waitFor(
        'the crashing revision scaled to zero',
        () => replicas(2),
        (n) => n === 0,
      );
      assert.equal(replicas(1), 3);
      assert.deepEqual(selector(), { 'app.kubernetes.io/name': 'web', 'cutover.dev/revision': '1' });
      const failed = store.listEvents({ rolloutId: rollout.id }).filter((e) => e.kind === 'instance-failed');
      assert.match(failed[0]?.message ?? '', /^revision 2: pod web-r2-\w+: container web CrashLoopBackOff/);
    } finally {
      crashing.stop();
    }
  });

  it('a first deploy whose image cannot be pulled fails at once, and nothing of it keeps running', async () => {
    neverReady.add(1);
    const pulling = failPods(api, 1, 'ImagePullBackOff');
    try {
      const rollout = deploy(appSpec('web:nope', '{ rolling: { progressDeadline: 10m } }'));
      const ended = await settled(rollout.id);
      assert.equal(ended.phase, 'failed');
      assert.match(ended.reason ?? '', /^pod web-r1-\w+: container web ImagePullBackOff: Back-off pulling image "web:nope"$/);
      await waitFor(
        'the revision scaled to zero',
        () => replicas(1),
        (n) => n === 0,
      );
    } finally {
      pulling.stop();
    }
  });

  it('a crash-looping pod of the stable revision shows in status with its reason, and a rollout of a good revision still promotes', async () => {
    await settled(deploy(appSpec('web:1', '{ rolling: {} }')).id);
    const crashing = failPods(api, 1, 'CrashLoopBackOff', 1);
    try {
      const status = await waitFor(
        'status shows the failed pod',
        () => controller.status('web').apps[0]!.instances,
        (list) => list.some((i) => i.state === 'failed'),
      );
      const failedPod = status.find((i) => i.state === 'failed')!;
      assert.match(failedPod.reason ?? '', new RegExp(`^pod ${failedPod.id}: container web CrashLoopBackOff after \\d+ restarts?`));
      assert.equal(status.filter((i) => i.state === 'ready').length, 2);
      assert.ok(store.listEvents({ app: 'web' }).some((e) => e.kind === 'instance-failed' && e.message.startsWith(`revision 1: pod ${failedPod.id}:`)));
      const rollout = deploy(appSpec('web:2', '{ rolling: { progressDeadline: 10m } }'));
      const ended = await settled(rollout.id);
      assert.equal(ended.phase, 'promoted', ended.reason ?? '');
      assert.equal(replicas(2), 3);
    } finally {
      crashing.stop();
    }
  });

  it("records the rollout on the app's Lease, and a second cutover on the same app is refused by it until the first lets go", async () => {
    const first = await settled(deploy(appSpec('web:1', '{ rolling: {} }')).id);
    const lease = () => api.objects.get('/apis/coordination.k8s.io/v1/namespaces/shop/leases/cutover-web') as any;
    await waitFor(
      'the Lease records the promoted rollout',
      () => lease()?.metadata.annotations?.[ROLLOUT_ANNOTATION],
      (a) => a !== undefined && JSON.parse(a).phase === 'promoted',
    );
    assert.equal(lease().spec.holderIdentity, leaseHolderFor(dir));
    assert.match(lease().spec.renewTime, /\.\d{6}Z$/, 'a MicroTime has six fractional digits');
    assert.equal(JSON.parse(lease().metadata.annotations[ROLLOUT_ANNOTATION]).rollout, first.id);

    const { controller: second, store: otherStore, dir: otherDir, close } = anotherCutover();
    try {
      await second.start();
      // As the daemon does: a deploy of a cluster app takes its state from the cluster first.
      await second.takeClusterStates([appSpec('web:2', '{ rolling: {} }')]);
      assert.equal(otherStore.stableRevision('web'), first.toRevision, 'the second cutover knows the revision the first one deployed');
      const refused = otherStore.getRollout(second.deploy([appSpec('web:2', '{ rolling: {} }')])[0]!.rolloutId!)!;
      const ended = await waitFor(
        'the second rollout ends',
        () => otherStore.getRollout(refused.id)!,
        (r) => isTerminalPhase(r.phase),
      );
      assert.equal(ended.phase, 'failed');
      assert.ok(ended.reason?.includes(`Lease cutover-web is held by ${leaseHolderFor(dir)}`), ended.reason ?? '');
      assert.equal(replicas(1), 3, 'the refused cutover changed nothing');
      assert.equal(api.objects.has(`${RS}/web-r2`), false);

      await controller.shutdown();
      assert.equal(lease(), undefined, 'a cutover that stops lets go of its Leases');
      const next = otherStore.getRollout(second.deploy([appSpec('web:2', '{ rolling: {} }')])[0]!.rolloutId!)!;
      assert.equal(
        (
          await waitFor(
            'the second cutover deploys',
            () => otherStore.getRollout(next.id)!,
            (r) => isTerminalPhase(r.phase),
          )
        ).phase,
        'promoted',
      );
      assert.equal(lease().spec.holderIdentity, leaseHolderFor(otherDir));
    } finally {
      await close();
    }
  });

  it('a controller restarted on the same data dir takes its own Lease back at once, where a crash left it', async () => {
    // What a controller killed a moment ago leaves: its Lease, fresh, held as this machine and data dir.
    api.put('/apis/coordination.k8s.io/v1/namespaces/shop/leases', {
      metadata: { name: 'cutover-web' },
      spec: { holderIdentity: leaseHolderFor(dir), leaseDurationSeconds: 15, renewTime: new Date().toISOString() },
    });
    const rollout = deploy(appSpec('web:1', '{ rolling: {} }'));
    assert.equal((await settled(rollout.id)).phase, 'promoted', 'not refused by its own Lease');
    assert.equal(replicas(1), 3);
  });

  it('a canary started by one cutover is shown by another, which sends its commands to the first while the first drives it, and promotes it itself once the first stops', async () => {
    api.put(ROUTES, { metadata: { name: 'web' }, spec: { parentRefs: [{ name: 'gw' }], rules: [] } });
    await settled(deploy(appSpec('web:1', '{ rolling: {} }', 'httpRoute')).id);
    const canary = appSpec('web:2', '{ canary: { steps: [ { setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: {} } ] } }', 'httpRoute');
    const started = deploy(canary);
    await waitFor(
      'the canary waits at its pause',
      () => store.getRollout(started.id)!,
      (r) => r.gate !== null,
    );
    const weights = () => ((api.objects.get(`${ROUTES}/web`) as any).spec.rules.at(-1)?.backendRefs ?? []).map((b: any) => `${b.name}=${b.weight}`).join(' ');
    const stateMap = () => api.objects.get('/api/v1/namespaces/shop/configmaps/cutover-web') as any;
    await waitFor(
      'the cluster holds the paused canary',
      () => stateMap()?.data?.['state.json'],
      (json) => json !== undefined && JSON.parse(json).rollouts.at(-1)?.gate !== null,
    );
    assert.equal(stateMap().metadata.annotations['cutover.dev/written-by'], leaseHolderFor(dir));

    const laptop = anotherCutover();
    try {
      await laptop.controller.start();
      await laptop.controller.takeClusterStates([canary]);
      const taken = laptop.store.activeRollout('web');
      assert.equal(taken?.toRevision, 2, 'the laptop knows the canary from the cluster');
      assert.equal(taken?.stepIndex, store.getRollout(started.id)!.stepIndex);
      assert.throws(
        () => laptop.controller.deploy([canary]),
        (error: any) => error.code === 'ROLLOUT_ALREADY_ACTIVE',
        'the same deploy from the laptop starts nothing',
      );
      const shown = await waitFor(
        'the laptop shows who drives the app',
        () => laptop.controller.status('web').apps[0]!,
        (a) => a.drivenBy !== undefined,
      );
      assert.equal(shown.drivenBy, leaseHolderFor(dir));
      assert.equal(shown.rollout?.strategy, 'canary');
      // Done on the laptop itself, a command would change nothing on the cluster: refused, naming the holder.
      await assert.rejects(
        laptop.controller.promote('web'),
        (error: any) => error.code === 'APP_DRIVEN_ELSEWHERE' && error.message.includes(leaseHolderFor(dir)),
      );
      assert.throws(
        () => laptop.controller.rollback('web'),
        (error: any) => error.code === 'APP_DRIVEN_ELSEWHERE',
      );
      // Sent to the first cutover (as the admin API does), it is run there, and the laptop sees the outcome.
      assert.equal(laptop.controller.isDrivenElsewhere('web'), true);
      const forwarded = await laptop.controller.forward('web', { verb: 'promote' });
      assert.ok(forwarded.toRevision === 2 && forwarded.stepIndex >= 2, `the laptop shows the rollout past the first pause: ${JSON.stringify(forwarded)}`);
      await waitFor(
        'the first cutover ran the promote: the canary waits at its second pause',
        () => store.getRollout(started.id)!,
        (r) => r.stepIndex === 3 && r.gate !== null,
      );
      await waitFor('the route at the second weight', weights, (w) => w === 'web-r1=40 web-r2=60' || w === 'web-r2=60 web-r1=40');
      await assert.rejects(
        laptop.controller.forward('web', { verb: 'resume' }),
        (error: any) => error.code === 'NOT_PAUSED' && error.message.includes(`answered by ${leaseHolderFor(dir)}`),
      );
      assert.ok(
        store.listEvents({ app: 'web' }).some((e) => e.kind === 'cluster-command' && e.message.startsWith(`promote sent by ${leaseHolderFor(laptop.dir)}`)),
      );

      // The first cutover stops (a CI job ends): its canary stays as it is on the cluster.
      await controller.shutdown();
      assert.equal(store.getRollout(started.id)!.phase, 'paused', "a cluster app's rollout is not aborted by a cutover going down");
      await waitFor(
        'the laptop takes the Lease',
        () => laptop.controller.status('web').apps[0]!,
        (a) => a.drivenBy === undefined,
      );
      const promoted = await laptop.controller.promote('web', { full: true });
      const ended = await waitFor(
        'the canary ends on the laptop',
        () => laptop.store.getRollout(promoted.id)!,
        (r) => isTerminalPhase(r.phase),
      );
      assert.equal(ended.phase, 'promoted');
      assert.equal(laptop.store.stableRevision('web'), 2);
      await waitFor(
        'the laptop wrote the promoted canary to the cluster',
        () => stateMap(),
        (m) => m.metadata.annotations['cutover.dev/written-by'] === leaseHolderFor(laptop.dir) && JSON.parse(m.data['state.json']).stableRevision === 2,
      );
      assert.deepEqual(
        laptop.store
          .listRollouts('web', 5)
          .map((r) => r.toRevision)
          .reverse(),
        [1, 2],
        'the history came along',
      );
    } finally {
      await laptop.close();
    }
  });

  describe('when the API server fails', () => {
    const invalidTemplate = () => {
      const file = path.join(dir, 'web-pod.yaml');
      fs.writeFileSync(file, 'spec:\n  containers:\n    - name: web\n      ports: [{ containerPort: eighty }]\n');
      return file;
    };
    const refusal =
      'creating ReplicaSet shop/web-r2 failed with 422: ReplicaSet.apps "web-r2" is invalid: spec.template.spec.containers[0].ports[0].containerPort: Invalid value: "eighty": must be integer';
    const posts = () => api.requests.filter((r) => r.method === 'POST' && r.path === RS);

    it("a new ReplicaSet refused with 422 turns the rollout back at once with the server's message (no wait for the progress deadline), and is not sent again", async () => {
      await settled(deploy(appSpec('web:1', '{ rolling: {} }')).id);
      const rollout = deploy(appSpec('web:2', '{ rolling: { progressDeadline: 10m } }', '', invalidTemplate()));
      const ended = await settled(rollout.id);
      assert.equal(ended.phase, 'rolled-back');
      assert.ok(ended.reason?.includes(refusal), ended.reason ?? '');
      assert.equal(replicas(1), 3);
      assert.equal(api.objects.has(`${RS}/web-r2`), false);
      assert.deepEqual(selector(), { 'app.kubernetes.io/name': 'web', 'cutover.dev/revision': '1' });
      assert.equal(api.rejected.length, 1, 'the refused ReplicaSet was sent once');
      assert.equal(posts().filter((r) => r.status === 422).length, 1);
      api.rejected.length = 0;
    });

    it("a first deploy whose ReplicaSet is refused with 422 fails with the server's message", async () => {
      const ended = await settled(deploy(appSpec('web:1', '{ rolling: { progressDeadline: 10m } }', '', invalidTemplate())).id);
      assert.equal(ended.phase, 'failed');
      assert.ok(ended.reason?.includes(refusal.replaceAll('web-r2', 'web-r1')), ended.reason ?? '');
      assert.equal(api.rejected.length, 1);
      api.rejected.length = 0;
    });

    it('500s on the ReplicaSet and Service patches and a connection cut in a list hold the rollout only until the server answers again, logged once', async () => {
      await settled(deploy(appSpec('web:1', '{ rolling: {} }')).id);
      api.failNext({ method: 'PATCH', pathIncludes: '/replicasets/', status: 500, times: 3 });
      api.failNext({ method: 'PATCH', pathIncludes: '/services/web', status: 500, times: 3 });
      api.failNext({ method: 'GET', pathIncludes: '/pods', isDropped: true });
      const rollout = deploy(appSpec('web:2', '{ rolling: { maxSurge: 1, maxUnavailable: 0 } }'));
      const ended = await settled(rollout.id);
      assert.equal(ended.phase, 'promoted', ended.reason ?? '');
      assert.equal(api.pendingFaults(), 0, 'every fault was met');
      assert.equal(replicas(1), 0);
      assert.equal(replicas(2), 3);
      const waits = logs.filter((line) => line.includes('waits for the cluster'));
      assert.ok(
        waits.some((line) => line.includes('failed with 500')),
        logs.join('\n'),
      );
      assert.ok(
        waits.some((line) => line.includes('listing ReplicaSets and Pods')),
        logs.join('\n'),
      );
      assert.equal(new Set(waits).size, waits.length, `each failure is logged once:\n${waits.join('\n')}`);
      assert.ok(
        logs.some((line) => line.includes('the cluster answers again')),
        logs.join('\n'),
      );
    });

    it('a call the server does not answer times out, the loop says so and goes on, and the rollout completes', async () => {
      clients = createKubeClients({ server: api.url, namespace: 'shop', requestTimeoutMs: 1000 });
      api.failNext({ method: 'GET', pathIncludes: '/replicasets', delayMs: 600_000 });
      const ended = await settled(deploy(appSpec('web:1', '{ rolling: {} }')).id);
      assert.equal(ended.phase, 'promoted', ended.reason ?? '');
      assert.equal(api.requests.find((r) => r.fault === 'delay')?.status, undefined, 'the hung request was never answered');
      assert.equal(logs.filter((line) => line.includes(`timed out: no complete answer from ${api.url} within 1000 ms`)).length, 1, logs.join('\n'));
    });
  });
});
