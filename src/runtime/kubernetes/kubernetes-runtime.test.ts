/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read stored objects and thrown errors as untyped JSON */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../../../test/helpers/fake-kube-api.js';
import type { AppSpec } from '../../model/spec.js';
import { createKubeClients } from './kube-clients.js';
import { KubernetesRuntime } from './kubernetes-runtime.js';

const SPEC: Pick<AppSpec, 'name' | 'health' | 'runtime'> = {
  name: 'web',
  health: { path: '/healthz', intervalMs: 2000, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 3, startupTimeoutMs: 60_000 },
  runtime: { kind: 'kubernetes', context: null, namespace: 'shop', image: 'registry.example/web:1.4.2', port: 8080, podTemplate: null },
};
const RS = '/apis/apps/v1/namespaces/shop/replicasets';
const PODS = '/api/v1/namespaces/shop/pods';

function pod(name: string, revision: number, isReady: boolean, podIP: string | null = '10.0.0.1') {
  return {
    metadata: { name, labels: { 'app.kubernetes.io/name': 'web', 'cutover.dev/revision': String(revision) } },
    status: { ...(podIP ? { podIP } : {}), conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False' }] },
  };
}

describe('KubernetesRuntime against the fake API server', () => {
  let api: FakeKubeApi;
  let runtime: KubernetesRuntime;
  before(async () => {
    api = await startFakeKubeApi();
    runtime = new KubernetesRuntime(createKubeClients({ server: api.url, namespace: 'shop' }), SPEC);
  });
  afterEach(() => assert.deepEqual(api.rejected, [], 'the provider sent only objects the schemas accept'));
  after(() => api.close());

  it('creates one ReplicaSet per revision, labelled with the app and the revision, with a readiness probe on the health path', async () => {
    await runtime.ensureRevision(3, 2);
    const rs = api.objects.get(`${RS}/web-r3`) as any;
    assert.equal(rs.spec.replicas, 2);
    assert.deepEqual(rs.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'web', 'cutover.dev/revision': '3' });
    assert.equal(rs.spec.template.metadata.labels['cutover.dev/revision'], '3');
    const [container] = rs.spec.template.spec.containers;
    assert.equal(container.image, 'registry.example/web:1.4.2');
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/healthz', port: 8080 });
  });

  it('ensuring an existing revision again only sets its replica count, with a merge patch', async () => {
    await runtime.ensureRevision(3, 5);
    assert.equal((api.objects.get(`${RS}/web-r3`) as any).spec.replicas, 5);
    const patch = api.requests.findLast((r) => r.method === 'PATCH');
    assert.equal(patch?.contentType, 'application/merge-patch+json');
    assert.deepEqual(patch?.body, { spec: { replicas: 5 } });
  });

  it('retries a scale that met a 409 Conflict', async () => {
    api.failNext({ method: 'PATCH', pathIncludes: '/replicasets/web-r3', status: 409 });
    await runtime.scaleRevision(3, 1);
    assert.equal(api.pendingFaults(), 0, 'the conflict was met');
    assert.equal((api.objects.get(`${RS}/web-r3`) as any).spec.replicas, 1);
  });

  it("a ReplicaSet the server refuses (422) is reported with its name and the server's message, and not sent again", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-pod-template-'));
    try {
      const template = path.join(dir, 'pod.yaml');
      fs.writeFileSync(template, 'spec:\n  containers:\n    - name: web\n      ports: [{ containerPort: eighty }]\n');
      const spec = { ...SPEC, runtime: { ...SPEC.runtime!, podTemplate: template } } as typeof SPEC;
      const posts = () => api.requests.filter((r) => r.method === 'POST' && r.path === RS).length;
      const before = posts();
      await assert.rejects(
        new KubernetesRuntime(createKubeClients({ server: api.url, namespace: 'shop' }), spec).ensureRevision(4, 1),
        (error: any) =>
          error.code === 'KUBERNETES_API_ERROR' &&
          error.message ===
            'creating ReplicaSet shop/web-r4 failed with 422: ReplicaSet.apps "web-r4" is invalid: spec.template.spec.containers[0].ports[0].containerPort: Invalid value: "eighty": must be integer',
      );
      assert.equal(posts() - before, 1);
      assert.equal(api.requests.at(-1)?.method, 'POST', 'no scale was tried after the refusal');
      assert.equal(api.objects.has(`${RS}/web-r4`), false);
      assert.equal(api.rejected.length, 1);
      api.rejected.length = 0;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a 500 as a KUBERNETES_API_ERROR naming what it was doing', async () => {
    api.failNext({ method: 'PATCH', pathIncludes: '/replicasets/web-r3', status: 500 });
    await assert.rejects(
      runtime.scaleRevision(3, 4),
      (error: any) => error.code === 'KUBERNETES_API_ERROR' && /scaling ReplicaSet shop\/web-r3 to 4 failed with 500/.test(error.message),
    );
  });

  it('observes readiness from pod conditions: only Ready pods with an IP become endpoints', async () => {
    api.put(PODS, pod('web-r3-a', 3, true, '10.0.0.7'));
    api.put(PODS, pod('web-r3-b', 3, false));
    api.put(PODS, pod('web-r3-c', 3, true, null));
    const [observed] = await runtime.observe();
    assert.equal(observed?.revision, 3);
    assert.deepEqual(observed?.readyEndpoints, [{ id: 'web-r3-a', host: '10.0.0.7', port: 8080 }]);
    assert.deepEqual(observed?.unreadyPods.sort(), ['web-r3-b', 'web-r3-c']);
  });

  it('observes a pod whose container crash-loops as failed, with why, not as unready', async () => {
    const crashing = pod('web-r3-d', 3, false);
    api.put(PODS, {
      ...crashing,
      status: {
        ...crashing.status,
        containerStatuses: [
          {
            name: 'web',
            image: 'web',
            imageID: '',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 2, reason: 'Error' } },
          },
        ],
      },
    });
    const [observed] = await runtime.observe();
    assert.deepEqual(observed?.failedPods, [{ id: 'web-r3-d', reason: 'pod web-r3-d: container web CrashLoopBackOff after 3 restarts (last exit 2: Error)' }]);
    assert.equal(observed?.unreadyPods.includes('web-r3-d'), false);
  });

  it('removes a revision, and removing it again is not an error', async () => {
    await runtime.removeRevision(3);
    await runtime.removeRevision(3);
    assert.equal(api.objects.has(`${RS}/web-r3`), false);
  });
});
