/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read Status bodies as untyped JSON */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.js';

const RS = '/apis/apps/v1/namespaces/shop/replicasets';
const ROUTES = '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes';
const WIDGETS = '/apis/example.com/v1/namespaces/shop/widgets';

function replicaSet(replicas: unknown) {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-r3' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } },
    },
  };
}

function route(weight: unknown) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web-r1', port: 8080, weight }] }] },
  };
}

describe('the fake API server', () => {
  let api: FakeKubeApi;
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: { 'content-type': contentType },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeEach(async () => {
    api = await startFakeKubeApi();
  });
  afterEach(() => api.close());

  describe('validates what it is sent with kubernetes-models', () => {
    it('refuses a ReplicaSet with replicas "three" with a 422 Status naming the field, and stores nothing', async () => {
      const { status, body } = await call('POST', RS, replicaSet('three'));
      assert.equal(status, 422);
      assert.equal(body.kind, 'Status');
      assert.equal(body.reason, 'Invalid');
      assert.equal(body.message, 'ReplicaSet.apps "web-r3" is invalid: spec.replicas: Invalid value: "three": must be integer');
      assert.deepEqual(body.details.causes, [{ reason: 'FieldValueInvalid', message: 'Invalid value: "three": must be integer', field: 'spec.replicas' }]);
      assert.equal(api.objects.has(`${RS}/web-r3`), false);
      assert.deepEqual(api.rejected, [{ method: 'POST', path: RS, message: body.message }]);
    });

    it('accepts a valid ReplicaSet and lists nothing as rejected', async () => {
      assert.equal((await call('POST', RS, replicaSet(3))).status, 201);
      assert.equal(api.objects.has(`${RS}/web-r3`), true);
      assert.deepEqual(api.rejected, []);
    });

    it('refuses an HTTPRoute backendRef of weight -1 (and 2000000), and says a missing field is required', async () => {
      const negative = await call('POST', ROUTES, route(-1));
      assert.equal(negative.status, 422);
      assert.equal(
        negative.body.message,
        'HTTPRoute.gateway.networking.k8s.io "web" is invalid: spec.rules[0].backendRefs[0].weight: Invalid value: -1: must be >= 0',
      );
      assert.match((await call('POST', ROUTES, route(2_000_000))).body.message, /weight: Invalid value: 2000000: must be <= 1000000/);
      const nameless = route(1);
      delete (nameless.spec.rules[0]!.backendRefs[0] as any).name;
      assert.match((await call('POST', ROUTES, nameless)).body.message, /spec\.rules\[0\]\.backendRefs\[0\]\.name: Required value/);
      assert.equal(api.rejected.length, 3);
    });

    it('validates what a merge patch would leave, and keeps the object as it was when refused', async () => {
      await call('POST', ROUTES, route(1));
      const before = api.objects.get(`${ROUTES}/web`);
      const refused = await call(
        'PATCH',
        `${ROUTES}/web`,
        { spec: { rules: [{ backendRefs: [{ name: 'web-r1', port: 8080, weight: '10' }] }] } },
        'application/merge-patch+json',
      );
      assert.equal(refused.status, 422);
      assert.match(refused.body.message, /weight: Invalid value: "10": must be integer/);
      assert.equal(api.objects.get(`${ROUTES}/web`), before);
      const accepted = await call(
        'PATCH',
        `${ROUTES}/web`,
        { spec: { rules: [{ backendRefs: [{ name: 'web-r1', port: 8080, weight: 10 }] }] } },
        'application/merge-patch+json',
      );
      assert.equal(accepted.status, 200);
      assert.equal(accepted.body.spec.rules[0].backendRefs[0].weight, 10);
    });

    it('knows the kind from the path: an object without apiVersion and kind is still checked, one naming another kind is a 400', async () => {
      const { apiVersion: _v, kind: _k, ...bare } = replicaSet('three');
      assert.equal((await call('POST', RS, bare)).status, 422);
      const wrongKind = await call('POST', RS, { ...replicaSet(1), kind: 'Deployment' });
      assert.equal(wrongKind.status, 400);
      assert.equal(wrongKind.body.reason, 'BadRequest');
    });

    it('lets a resource it has no model for pass unchecked', async () => {
      assert.equal(
        (await call('POST', WIDGETS, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { replicas: 'three' } })).status,
        201,
      );
      assert.deepEqual(api.rejected, []);
    });
  });

  describe('faults', () => {
    it('answers a status for the next `times` matching requests, then carries on', async () => {
      await call('POST', RS, replicaSet(1));
      api.failNext({ method: 'GET', pathIncludes: '/replicasets', status: 500, times: 3 });
      const statuses = [];
      for (let n = 0; n < 4; n++) statuses.push((await call('GET', RS)).status);
      assert.deepEqual(statuses, [500, 500, 500, 200]);
      assert.equal(api.pendingFaults(), 0);
      assert.deepEqual(api.requests.map((r) => r.fault ?? null).slice(-4), ['status', 'status', 'status', null]);
    });

    it('a delayed request is answered (and carried out) only after the delay', async () => {
      api.failNext({ method: 'POST', pathIncludes: '/replicasets', delayMs: 150 });
      const answer = call('POST', RS, replicaSet(1));
      // Seen, not yet carried out:
      while (api.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(api.objects.has(`${RS}/web-r3`), false);
      assert.equal((await answer).status, 201);
      assert.equal(api.objects.has(`${RS}/web-r3`), true);
    });

    it('a dropped connection cuts the answer halfway, after the request was carried out', async () => {
      api.failNext({ method: 'POST', pathIncludes: '/replicasets', isDropped: true });
      await assert.rejects(call('POST', RS, replicaSet(1)));
      assert.equal(api.objects.has(`${RS}/web-r3`), true, 'the write happened; only its answer was lost');
      assert.equal(api.requests.at(-1)?.fault, 'drop');
      assert.equal((await call('POST', RS, replicaSet(1))).status, 409, 'the next create finds it');
    });

    it('close ends a connection whose answer is still delayed', async () => {
      api.failNext({ method: 'GET', pathIncludes: '/replicasets', delayMs: 600_000 });
      const answer = call('GET', RS);
      while (api.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
      await api.close();
      await assert.rejects(answer);
      api = await startFakeKubeApi(); // for afterEach
    });
  });
});
