/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read thrown errors as untyped objects */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../../../test/helpers/fake-kube-api.js';
import type { AppSpec } from '../../model/spec.js';
import { createKubeClients, KubernetesApiError, MAX_CONFLICT_RETRIES, MERGE_PATCH, withConflictRetry } from './kube-clients.js';
import { KubernetesRuntime } from './kubernetes-runtime.js';

const SPEC: Pick<AppSpec, 'name' | 'health' | 'runtime'> = {
  name: 'web',
  health: { path: '/healthz', intervalMs: 2000, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 3, startupTimeoutMs: 60_000 },
  runtime: { kind: 'kubernetes', context: null, namespace: 'shop', image: 'registry.example/web:1.4.2', port: 8080, podTemplate: null },
};
const RS = '/apis/apps/v1/namespaces/shop/replicasets';

describe('Kubernetes clients against a faulty API server', () => {
  let api: FakeKubeApi;
  const runtime = (requestTimeoutMs?: number) =>
    new KubernetesRuntime(createKubeClients({ server: api.url, namespace: 'shop', ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) }), SPEC);

  beforeEach(async () => {
    api = await startFakeKubeApi();
  });
  afterEach(async () => {
    assert.deepEqual(api.rejected, [], 'the provider sent only objects the schemas accept');
    await api.close();
  });

  // The test's own deadline: without the request timeout the call would wait for the server's 600 s.
  it('a call the server answers after the timeout fails as timed out, and the next call works', { timeout: 20_000 }, async () => {
    await runtime().ensureRevision(1, 2);
    const kube = runtime(1000);
    api.failNext({ method: 'GET', pathIncludes: '/replicasets', delayMs: 600_000 });
    await assert.rejects(kube.observe(), (error: any) => {
      assert.ok(error instanceof KubernetesApiError);
      assert.equal(error.code, 'KUBERNETES_API_ERROR');
      assert.match(
        error.message,
        new RegExp(`^listing ReplicaSets and Pods of shop/web failed: timed out: no complete answer from ${api.url} within 1000 ms$`),
      );
      assert.equal(error.status, undefined);
      assert.equal(error.isTransient, true);
      return true;
    });
    assert.equal(api.pendingFaults(), 0, 'the slow request did reach the server');
    assert.equal((await kube.observe())[0]?.desiredReplicas, 2);
  });

  it('a slow answer within the timeout is waited for', async () => {
    api.failNext({ method: 'POST', pathIncludes: '/replicasets', delayMs: 50 });
    await runtime().ensureRevision(1, 2);
    assert.equal(api.requests.find((r) => r.method === 'POST')?.fault, 'delay');
    assert.equal((api.objects.get(`${RS}/web-r1`) as any).spec.replicas, 2);
  });

  it('a connection dropped mid-answer is a transient KUBERNETES_API_ERROR with no status, and the write is idempotent', { timeout: 20_000 }, async () => {
    const kube = runtime();
    await kube.ensureRevision(1, 1);
    api.failNext({ method: 'PATCH', pathIncludes: '/replicasets/web-r1', isDropped: true });
    await assert.rejects(
      kube.scaleRevision(1, 3),
      (error: any) =>
        error instanceof KubernetesApiError &&
        error.status === undefined &&
        error.isTransient &&
        /^scaling ReplicaSet shop\/web-r1 to 3 failed: /.test(error.message),
    );
    await kube.scaleRevision(1, 3);
    assert.equal((api.objects.get(`${RS}/web-r1`) as any).spec.replicas, 3);
  });

  it('a 409 is retried after a fresh read up to MAX_CONFLICT_RETRIES times, then reported', async () => {
    const kube = runtime();
    await kube.ensureRevision(1, 1);
    api.failNext({ method: 'PATCH', pathIncludes: '/replicasets/web-r1', status: 409, times: MAX_CONFLICT_RETRIES });
    await kube.scaleRevision(1, 2);
    assert.equal((api.objects.get(`${RS}/web-r1`) as any).spec.replicas, 2);
    api.failNext({ method: 'PATCH', pathIncludes: '/replicasets/web-r1', status: 409, times: MAX_CONFLICT_RETRIES + 1 });
    await assert.rejects(kube.scaleRevision(1, 4), (error: any) => error instanceof KubernetesApiError && error.status === 409 && error.isTransient);
    assert.equal(api.pendingFaults(), 0);
  });

  it("a 422 is not retried: one request, and the error names the object and the server's message", async () => {
    const { apps } = createKubeClients({ server: api.url, namespace: 'shop' });
    await runtime().ensureRevision(1, 1);
    const patches = () => api.requests.filter((r) => r.method === 'PATCH').length;
    await assert.rejects(
      withConflictRetry('scaling ReplicaSet shop/web-r1 to three', () =>
        apps.patchNamespacedReplicaSet({ name: 'web-r1', namespace: 'shop', body: { spec: { replicas: 'three' } } }, MERGE_PATCH),
      ),
      (error: any) => {
        assert.ok(error instanceof KubernetesApiError);
        assert.equal(
          error.message,
          'scaling ReplicaSet shop/web-r1 to three failed with 422: ReplicaSet.apps "web-r1" is invalid: spec.replicas: Invalid value: "three": must be integer',
        );
        assert.equal(error.isInvalid, true);
        assert.equal(error.isTransient, false);
        return true;
      },
    );
    assert.equal(patches(), 1);
    assert.equal(api.rejected.length, 1);
    api.rejected.length = 0; // expected here; the afterEach check is for the provider's own objects
  });
});
