/**
 * Canary analysis of a kubernetes app, where cutover's proxy is not in the path: the analysis
 * asks a real Prometheus (Debian's package, on a loopback port) about the app's own request
 * counters, by revision, while a real kube-apiserver and kube-controller-manager (v1.20.2,
 * Debian source build) run the ReplicaSets. No container runs: a tiny exporter on 127.0.0.1
 * plays the app's pods behind their Service, counting requests for every ready pod of each
 * revision (as many per pod, so traffic follows the replica ratio, as through a Service) with
 * the error rate the test gives that revision, labelled as a Prometheus that relabels the pods'
 * `cutover.dev/revision` label would show them: `http_requests_total{app, revision, code}`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Controller } from '../src/controller/controller.js';
import { isTerminalPhase } from '../src/model/rollout.js';
import type { AppSpec } from '../src/model/spec.js';
import { isPodReady } from '../src/runtime/kubernetes/kubernetes-runtime.js';
import { createKubeClients, type KubeClients } from '../src/runtime/kubernetes/kube-clients.js';
import { parseConfig } from '../src/spec/index.js';
import type { SqliteStore } from '../src/store/sqlite-store.js';
import { FakeKubelet } from './helpers/fake-kubelet.js';
import { eventually, startKubeController, type KubeController } from './helpers/kube-test-kit.js';
import { KUBE_API_LEVEL, KubeControlPlane, kubeControlPlaneSkip } from './helpers/kube-control-plane.js';
import { prometheusSkip, TestPrometheus } from './helpers/prometheus.js';

const NAMESPACE = 'analysis';
/** Requests each ready pod serves per tick of the exporter. */
const REQUESTS_PER_TICK = 20;
const TICK_MS = 200;
const QUERY =
  '(sum(rate(http_requests_total{app="{{app}}",revision="{{revision}}",code=~"5.."}[5s])) or vector(0)) / sum(rate(http_requests_total{app="{{app}}",revision="{{revision}}"}[5s]))';

/** The app's request counters as its pods would export them: per revision and status code, growing with every ready pod. */
class RequestExporter {
  readonly errorRates = new Map<number, number>();
  private readonly counts = new Map<string, number>();
  private readonly server = http.createServer((request, response) => {
    if (request.url !== '/metrics') return void response.writeHead(404).end();
    const lines = ['# HELP http_requests_total Requests the app served, by revision and status code.', '# TYPE http_requests_total counter'];
    for (const [key, count] of [...this.counts].sort()) {
      const [revision, code] = key.split('/');
      lines.push(`http_requests_total{app="web",revision="${revision}",code="${code}"} ${count}`);
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  private timer: NodeJS.Timeout | null = null;
  private isTicking = false;

  constructor(private readonly clients: KubeClients) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async tick(): Promise<void> {
    if (this.isTicking) return;
    this.isTicking = true;
    try {
      const pods = await this.clients.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/name=web' });
      for (const pod of pods.items.filter(isPodReady)) {
        const revision = Number(pod.metadata?.labels?.['cutover.dev/revision']);
        const errors = Math.round(REQUESTS_PER_TICK * (this.errorRates.get(revision) ?? 0));
        this.add(revision, '200', REQUESTS_PER_TICK - errors);
        if (errors > 0) this.add(revision, '500', errors);
      }
    } catch {
      // The next tick counts again.
    } finally {
      this.isTicking = false;
    }
  }

  private add(revision: number, code: string, count: number): void {
    const key = `${revision}/${code}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + count);
  }
}

const skip = kubeControlPlaneSkip || prometheusSkip;

let plane: KubeControlPlane;
before(async () => {
  if (!skip) plane = await KubeControlPlane.start(fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-kube-analysis-')));
});
after(async () => {
  await plane?.stop();
});

describe(`canary analysis of a kubernetes app with a real Prometheus, on ${KUBE_API_LEVEL}`, { skip }, () => {
  let dir: string;
  let kube: KubeController;
  let store: SqliteStore;
  let controller: Controller;
  let kubelet: FakeKubelet;
  let clients: KubeClients;
  let exporter: RequestExporter;
  let prometheus: TestPrometheus;

  const spec = (image: string): AppSpec =>
    parseConfig(
      [
        'apps:',
        '  web:',
        '    replicas: 2',
        `    runtime: { kubernetes: { namespace: ${NAMESPACE}, image: ${image}, port: 8080 } }`,
        '    analysis:',
        `      errors: { provider: prometheus, address: "${prometheus.address}", query: ${JSON.stringify(QUERY)}, successCondition: "< 0.05", interval: 1s, count: 3, inconclusiveLimit: 6 }`,
        '    strategy:',
        '      canary: { steps: [ { setWeight: 50 }, { analysis: { templates: [errors] } } ], progressDeadline: 10m }',
        '',
      ].join('\n'),
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
  const measured = (rolloutId: number) => store.listAnalysisMeasurements({ rolloutId, pointKey: 'step@1', template: 'errors' });

  before(async () => {
    await plane.createNamespace(NAMESPACE);
    clients = createKubeClients({ server: plane.server, token: plane.token, namespace: NAMESPACE });
    kubelet = await FakeKubelet.start(clients.core, NAMESPACE);
    exporter = new RequestExporter(clients);
    const target = await exporter.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-kube-prometheus-'));
    prometheus = await TestPrometheus.start(path.join(dir, 'prometheus'), [target]);
    await eventually(
      'Prometheus to scrape the exporter',
      () => prometheus.query('up{job="cutover"}'),
      (up) => up === 1,
    );
    kube = await startKubeController(plane.kubeconfigPath, 'cutover-kube-analysis-controller-');
    ({ controller, store } = kube);
    assert.equal((await ended(deploy('web:1'))).phase, 'promoted');
  });
  after(async () => {
    await kube?.close();
    await prometheus?.stop();
    await exporter?.stop();
    await kubelet?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a canary answering 30% errors fails its Prometheus analysis and is rolled back; the stable revision keeps its pods', async () => {
    exporter.errorRates.set(2, 0.3);
    const id = deploy('web:2');
    const rollout = await ended(id);
    assert.equal(rollout.phase, 'rolled-back', rollout.reason ?? '');
    assert.match(rollout.reason ?? '', /^analysis errors failed: prometheus query 0\.\d+ >= 0\.05/);
    // The value is the canary's own error ratio, read from the counters Prometheus scraped.
    const decisive = measured(id).at(-1)!;
    assert.equal(decisive.result, 'failed');
    assert.ok(decisive.value !== null && decisive.value > 0.25 && decisive.value < 0.35, JSON.stringify(decisive));
    await eventually(
      'the canary scaled to zero',
      () => replicasOf(2),
      (n) => n === 0,
    );
    assert.equal(await replicasOf(1), 2);
    assert.equal(store.stableRevision('web'), 1);
  });

  it('a canary without errors passes the same analysis on its real traffic and is promoted', async () => {
    const id = deploy('web:3');
    const rollout = await ended(id);
    assert.equal(rollout.phase, 'promoted', rollout.reason ?? '');
    assert.deepEqual(
      store.listAnalysisRuns({ rolloutId: id }).map((r) => [r.pointKey, r.template, r.state]),
      [['step@1', 'errors', 'successful']],
    );
    // Measured before Prometheus had two samples of the canary: no series, inconclusive (tolerated); then 0.
    const results = measured(id);
    assert.ok(
      results.some((m) => m.result === 'successful'),
      JSON.stringify(results),
    );
    assert.ok(
      results.every((m) => (m.result === 'successful' && m.value === 0) || (m.result === 'inconclusive' && m.value === null)),
      JSON.stringify(results),
    );
    // It was judged on traffic it served: Prometheus has the canary's requests.
    assert.ok(((await prometheus.query('sum(http_requests_total{revision="3"})')) ?? 0) > 0);
    assert.equal(store.stableRevision('web'), 3);
    await eventually(
      'the old stable revision scaled to zero',
      () => replicasOf(1),
      (n) => n === 0,
    );
  });
});
