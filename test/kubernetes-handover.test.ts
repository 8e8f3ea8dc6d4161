/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read stored objects and CLI JSON as untyped JSON */
/**
 * Progressive rollouts of a kubernetes app on a real kube-apiserver and kube-controller-manager
 * (v1.20.2 built from Debian's source package), and the app's state kept in the cluster:
 * - through the controller: a canary on HTTPRoute weights promoted, another aborted, a blue-green
 *   preview by header with its preview Service;
 * - through the CLI, two cutovers as on two machines (a CI runner and a laptop): the runner's
 *   laptop shows the runner's canary and its promote is run by the runner; the runner's
 *   daemon is killed and started again and resumes the canary; killed again for good, the laptop
 *   takes the canary over from the cluster's state once the Lease runs out, and promotes it.
 * Pods are bound and made ready by a fake kubelet; nothing routes traffic by the HTTPRoute.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AppSpec } from '../src/model/spec.js';
import { isTerminalPhase } from '../src/model/rollout.js';
import type { Controller } from '../src/controller/controller.js';
import { leaseHolderFor } from '../src/controller/revision-backend.js';
import { HTTP_ROUTE_API } from '../src/router/kubernetes/http-route-rules.js';
import { createKubeClients, type KubeClients } from '../src/runtime/kubernetes/kube-clients.js';
import { STATE_KEY, WRITTEN_BY_ANNOTATION } from '../src/runtime/kubernetes/kubernetes-state-map.js';
import { parseConfig } from '../src/spec/index.js';
import type { SqliteStore } from '../src/store/sqlite-store.js';
import { FakeKubelet } from './helpers/fake-kubelet.js';
import { isProcessGroupAlive, runCli } from './helpers/daemon-fixture.js';
import { endpointIps, eventually, podIps, startKubeController, type KubeController } from './helpers/kube-test-kit.js';
import { KUBE_API_LEVEL, KubeControlPlane, kubeControlPlaneSkip } from './helpers/kube-control-plane.js';

let plane: KubeControlPlane;
before(async () => {
  if (!kubeControlPlaneSkip) plane = await KubeControlPlane.start(fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-kube-')));
});
after(async () => {
  await plane?.stop();
});

describe(`canary, abort and blue-green preview of a kubernetes app through the controller on ${KUBE_API_LEVEL}`, { skip: kubeControlPlaneSkip }, () => {
  const namespace = 'progressive';
  let kube: KubeController;
  let store: SqliteStore;
  let controller: Controller;
  let kubelet: FakeKubelet;
  let clients: KubeClients;

  const spec = (image: string, strategy: string): AppSpec =>
    parseConfig(
      `apps:\n  web:\n    replicas: 2\n    runtime: { kubernetes: { namespace: ${namespace}, image: ${image}, port: 8080 } }\n    router: { kubernetes: { service: web, httpRoute: web } }\n    strategy: ${strategy}\n`,
      '/srv/cutover.yaml',
    ).apps[0]!;
  const deploy = (image: string, strategy: string) => controller.deploy([spec(image, strategy)])[0]!.rolloutId!;
  const ended = (id: number) =>
    eventually(
      `rollout ${id} ends`,
      async () => store.getRollout(id)!,
      (r) => isTerminalPhase(r.phase),
    );
  const atGate = (id: number) =>
    eventually(
      `rollout ${id} waits at its gate`,
      async () => store.getRollout(id)!,
      (r) => r.gate !== null,
    );
  const route = async () => (await clients.custom.getNamespacedCustomObject({ ...HTTP_ROUTE_API, namespace, name: 'web' })) as any;
  /** The weighted backendRefs of the route's last rule (the one without matches), as `web-r2=25`. */
  const weights = async () =>
    ((await route()).spec.rules.at(-1)?.backendRefs ?? [])
      .filter((b: any) => b.weight > 0)
      .map((b: any) => `${b.name}=${b.weight}`)
      .sort();

  before(async () => {
    await plane.createNamespace(namespace);
    await plane.installHttpRouteCrd();
    clients = createKubeClients({ server: plane.server, token: plane.token, namespace });
    await clients.custom.createNamespacedCustomObject({
      ...HTTP_ROUTE_API,
      namespace,
      body: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web' }, spec: { parentRefs: [{ name: 'gw' }], rules: [] } },
    });
    kubelet = await FakeKubelet.start(clients.core, namespace);
    kube = await startKubeController(plane.kubeconfigPath, 'cutover-kube-progressive-');
    ({ controller, store } = kube);
    assert.equal((await ended(deploy('web:1', '{ rolling: {} }'))).phase, 'promoted');
  });
  after(async () => {
    await kube?.close();
    await kubelet?.stop();
  });

  it('canary: the step weight reaches the HTTPRoute on the server, the canary Service selects its pods, and a promote sends all traffic to it', async () => {
    const id = deploy('web:2', '{ canary: { steps: [ { setWeight: 25 }, { pause: {} } ] } }');
    await atGate(id);
    assert.deepEqual(await weights(), ['web-r1=75', 'web-r2=25']);
    const canaryPods = await podIps(clients, 2);
    assert.ok(canaryPods.length > 0);
    await eventually(
      'the canary Service on the canary pods',
      () => endpointIps(clients, 'web-r2'),
      (ips) => JSON.stringify(ips) === JSON.stringify(canaryPods),
    );

    await controller.promote('web', { full: true });
    assert.equal((await ended(id)).phase, 'promoted');
    await eventually('all weight on revision 2', weights, (w) => w.length === 1 && w[0]!.startsWith('web-r2='));
    await eventually(
      'revision 1 scaled to zero',
      () => podIps(clients, 1),
      (ips) => ips.length === 0,
    );
  });

  it('abort: the route and the Service go back to the stable revision at once, and the rollout ends aborted', async () => {
    const id = deploy('web:3', '{ canary: { steps: [ { setWeight: 40 }, { pause: {} } ], abortScaleDownDelay: 0s } }');
    await atGate(id);
    assert.deepEqual(await weights(), ['web-r2=60', 'web-r3=40']);
    const aborted = await controller.abort('web');
    assert.equal(aborted.phase, 'aborted');
    assert.deepEqual(await weights(), [`web-r2=${(await podIps(clients, 2)).length}`], 'the route is back on the stable revision when abort returns');
    const stable = await podIps(clients, 2);
    await eventually(
      'the Service on the stable pods',
      () => endpointIps(clients, 'web'),
      (ips) => JSON.stringify(ips) === JSON.stringify(stable),
    );
    await eventually(
      'the aborted revision scaled to zero',
      () => podIps(clients, 3),
      (ips) => ips.length === 0,
    );
  });

  it('blue-green with a header preview: green answers the header on the route and the preview Service, blue keeps the Service until the promote', async () => {
    const id = deploy('web:4', '{ blueGreen: { preview: { header: { name: x-preview, value: "1" } }, scaleDownDelay: 0s } }');
    await atGate(id);
    const blue = await podIps(clients, 2);
    const green = await podIps(clients, 4);
    assert.equal(green.length, 2);
    const [headerRule] = (await route()).spec.rules;
    assert.deepEqual(headerRule.matches, [{ headers: [{ type: 'Exact', name: 'x-preview', value: '1' }] }]);
    assert.deepEqual(
      headerRule.backendRefs.map((b: any) => b.name),
      ['web-r4'],
    );
    await eventually(
      'the preview Service on green',
      () => endpointIps(clients, 'web-preview'),
      (ips) => JSON.stringify(ips) === JSON.stringify(green),
    );
    assert.deepEqual(await endpointIps(clients, 'web'), blue, 'blue serves the Service until the promote');

    await controller.promote('web');
    assert.equal((await ended(id)).phase, 'promoted');
    await eventually(
      'the Service on green',
      () => endpointIps(clients, 'web'),
      (ips) => JSON.stringify(ips) === JSON.stringify(green),
    );
  });
});

describe(`two cutovers hand a kubernetes app over through the cluster's state on ${KUBE_API_LEVEL}`, { skip: kubeControlPlaneSkip }, () => {
  const namespace = 'handover';
  let root: string;
  let kubelet: FakeKubelet;
  let clients: KubeClients;
  const config = (image: string) =>
    `metrics: { listen: false }\napps:\n  web:\n    replicas: 2\n    runtime: { kubernetes: { namespace: ${namespace}, image: ${image}, port: 8080 } }\n    strategy: { canary: { steps: [ { setWeight: 50 }, { pause: {} }, { setWeight: 100 }, { pause: {} } ] } }\n`;
  /** A machine: its own folder with cutover.yaml, and the data dir `.cutover/` beside it. */
  const machine = (name: string) => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { recursive: true });
    const dataDir = path.join(dir, '.cutover');
    return {
      holder: leaseHolderFor(dataDir),
      write: (image: string) => fs.writeFileSync(path.join(dir, 'cutover.yaml'), config(image)),
      cli: (...args: string[]) => runCli([...args, '-c', path.join(dir, 'cutover.yaml')], { env: { KUBECONFIG: plane.kubeconfigPath } }),
      status: async () => {
        const result = await runCli(['status', '--json', '-c', path.join(dir, 'cutover.yaml')], { env: { KUBECONFIG: plane.kubeconfigPath } });
        return result.code === 0 ? (JSON.parse(result.stdout).apps[0] as any) : null;
      },
      daemonPid: () => Number(fs.readFileSync(path.join(dataDir, 'daemon.pid'), 'utf8')),
    };
  };
  let runner: ReturnType<typeof machine>;
  let laptop: ReturnType<typeof machine>;
  const stateMap = async () => clients.core.readNamespacedConfigMap({ name: 'cutover-web', namespace });

  before(async () => {
    await plane.createNamespace(namespace);
    clients = createKubeClients({ server: plane.server, token: plane.token, namespace });
    kubelet = await FakeKubelet.start(clients.core, namespace);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-kube-handover-'));
    runner = machine('runner');
    laptop = machine('laptop');
  });
  after(async () => {
    for (const m of [runner, laptop]) {
      await m?.cli('down');
      const pid = (() => {
        try {
          return m.daemonPid();
        } catch {
          return null;
        }
      })();
      if (pid && isProcessGroupAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
    await kubelet?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('a second cutover shows the canary and sends its promote to the first; the first, killed mid-canary, resumes it; killed for good, the second takes the canary over from the cluster and promotes it', async () => {
    // The runner (a CI job) deploys revision 1, then starts a canary of revision 2 and leaves it at its pause.
    runner.write('web:1');
    const up = await runner.cli('up', '--detach');
    assert.equal(up.code, 0, up.stderr);
    runner.write('web:2');
    const deployed = await runner.cli('deploy', '--detach');
    assert.equal(deployed.code, 0, deployed.stderr);
    const paused = await eventually('the canary waits at its pause', runner.status, (app) => app?.rollout?.gate != null);
    await eventually('the cluster holds the paused canary', stateMap, (map) => JSON.parse(map.data?.[STATE_KEY] ?? '{}').rollouts?.at(-1)?.gate != null);

    // The laptop starts on the same cutover.yaml while the runner drives the app: it only shows the canary.
    laptop.write('web:2');
    const laptopUp = await laptop.cli('up', '--detach');
    assert.equal(laptopUp.code, 0, laptopUp.stderr);
    const shown = await eventually('the laptop shows who drives the app', laptop.status, (app) => app?.drivenBy !== undefined);
    assert.equal(shown.drivenBy, runner.holder);
    assert.deepEqual([shown.revision, shown.rollout?.toRevision, shown.rollout?.strategy, shown.rollout?.gate], [1, 2, 'canary', paused.rollout.gate]);
    const plain = (await laptop.cli('status')).stdout;
    assert.ok(plain.includes(`driven by another cutover: ${runner.holder}`), plain);
    // A promote on the laptop goes to the runner, through the cluster, and the laptop says how it went.
    const forwarded = await laptop.cli('promote', 'web');
    assert.equal(forwarded.code, 0, forwarded.stderr);
    const onRunner = await eventually(
      'the runner ran it: the canary waits at its second pause',
      runner.status,
      (app) => app?.rollout?.stepIndex === 3 && app.rollout.gate != null,
    );
    assert.equal(onRunner.rollout.id, paused.rollout.id);
    await eventually('the laptop shows the second pause', laptop.status, (app) => app?.rollout?.stepIndex === 3);
    const canaryReplicas = async () => (await clients.apps.readNamespacedReplicaSet({ name: 'web-r2', namespace })).spec?.replicas;
    const canarySize = await eventually('the canary at full size for 100 %', canaryReplicas, (n) => n === 2);
    const refused = await laptop.cli('resume', 'web');
    assert.equal(refused.code, 2, refused.stdout);
    assert.ok(refused.stderr.includes(`answered by ${runner.holder}`), refused.stderr);
    assert.equal((await laptop.cli('down')).code, 0);

    // The runner's daemon dies at once (primary, workers and controller); started again on its data dir, it resumes where it was.
    const killed = runner.daemonPid();
    process.kill(-killed, 'SIGKILL');
    await eventually(
      'the runner daemon gone',
      async () => isProcessGroupAlive(killed),
      (alive) => !alive,
    );
    const again = await runner.cli('up', '--detach');
    assert.equal(again.code, 0, again.stderr);
    const resumed = await eventually('the runner drives its canary again', runner.status, (app) => app?.rollout != null && app.instances.length > 0);
    assert.equal(resumed.drivenBy, undefined, 'its own Lease is taken back at once');
    assert.deepEqual(
      [resumed.rollout.id, resumed.rollout.phase, resumed.rollout.stepIndex, resumed.rollout.gate],
      [onRunner.rollout.id, onRunner.rollout.phase, onRunner.rollout.stepIndex, onRunner.rollout.gate],
    );
    assert.equal(await canaryReplicas(), canarySize, 'the canary kept its size');

    // The runner dies again, for good (a CI job cancelled): the laptop waits out its Lease and drives the canary on from the cluster's state.
    const killedAgain = runner.daemonPid();
    process.kill(-killedAgain, 'SIGKILL');
    await eventually(
      'the runner daemon gone',
      async () => isProcessGroupAlive(killedAgain),
      (alive) => !alive,
    );
    assert.equal(await canaryReplicas(), canarySize, 'the canary stays as it is on the cluster');
    const laptopAgain = await laptop.cli('up', '--detach');
    assert.equal(laptopAgain.code, 0, laptopAgain.stderr);
    const taken = await eventually(
      'the laptop drives the app once the Lease ran out',
      laptop.status,
      (app) => app !== null && app.drivenBy === undefined && app.instances.length > 0,
    );
    assert.deepEqual(
      [taken.rollout.phase, taken.rollout.stepIndex, taken.rollout.gate],
      [onRunner.rollout.phase, onRunner.rollout.stepIndex, onRunner.rollout.gate],
      'the canary goes on where the cluster says it stands',
    );
    const promoted = await laptop.cli('promote', 'web', '--full');
    assert.equal(promoted.code, 0, promoted.stderr);
    const done = await eventually('revision 2 is stable on the laptop', laptop.status, (app) => app?.revision === 2 && app.rollout?.phase === 'promoted');
    assert.equal(done.rollout.toRevision, 2);
    await eventually(
      'revision 1 scaled to zero',
      () => podIps(clients, 1),
      (ips) => ips.length === 0,
    );
    await eventually(
      'the Service on revision 2 only',
      async () => (await clients.core.readNamespacedService({ name: 'web', namespace })).spec?.selector?.['cutover.dev/revision'],
      (r) => r === '2',
    );

    const history = JSON.parse((await laptop.cli('history', 'web', '--json')).stdout);
    assert.deepEqual(
      history.rollouts.map((r: any) => `${r.fromRevision ?? '-'}→${r.toRevision}:${r.phase}`).reverse(),
      ['-→1:promoted', '1→2:promoted'],
      "the laptop has the runner's history",
    );
    const map = await stateMap();
    assert.equal(map.metadata?.annotations?.[WRITTEN_BY_ANNOTATION], laptop.holder);
    assert.equal(JSON.parse(map.data![STATE_KEY]!).stableRevision, 2);
  });
});
