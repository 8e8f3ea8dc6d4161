/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read stored objects and thrown errors as untyped JSON */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../../../test/helpers/fake-kube-api.js';
import type { RevisionGroup, TrafficPlan } from '../../model/traffic-plan.js';
import { createKubeClients } from '../../runtime/kubernetes/kube-clients.js';
import { KubernetesRouter } from './kubernetes-router.js';

const SERVICES = '/api/v1/namespaces/shop/services';
const ROUTES = '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes';
const APP = 'app.kubernetes.io/name';
const REVISION = 'cutover.dev/revision';

function plan(groups: Pick<RevisionGroup, 'revision' | 'weight'>[], extra: Partial<TrafficPlan> = {}): TrafficPlan {
  return { app: 'web', version: 1, listen: { host: '0.0.0.0', port: 80 }, groups: groups.map((g) => ({ ...g, endpoints: [] })), ...extra };
}

describe('KubernetesRouter against the fake API server', () => {
  let api: FakeKubeApi;
  const notices: string[] = [];
  const router = (httpRoute: string | null): KubernetesRouter =>
    new KubernetesRouter(createKubeClients({ server: api.url, namespace: 'shop' }), {
      app: 'web',
      service: 'web',
      httpRoute,
      port: 8080,
      onNotice: (m) => notices.push(m),
    });

  beforeEach(async () => {
    await api?.close();
    api = await startFakeKubeApi();
    notices.length = 0;
    api.put(ROUTES, { metadata: { name: 'web' }, spec: { parentRefs: [{ name: 'gw' }], rules: [] } });
  });
  afterEach(() => assert.deepEqual(api.rejected, [], 'the provider sent only objects the schemas accept'));
  after(() => api.close());

  it('blue-green: creates the Service on the one weighted revision, then switches its selector with one merge patch', async () => {
    const kube = router(null);
    await kube.applyPlan(plan([{ revision: 1, weight: 100 }]));
    assert.deepEqual((api.objects.get(`${SERVICES}/web`) as any).spec.selector, { [APP]: 'web', [REVISION]: '1' });
    await kube.applyPlan(
      plan([
        { revision: 1, weight: 0 },
        { revision: 2, weight: 100 },
      ]),
    );
    assert.deepEqual((api.objects.get(`${SERVICES}/web`) as any).spec.selector, { [APP]: 'web', [REVISION]: '2' });
    assert.equal(kube.weightMode, 'exact');
  });

  it('blue-green: points a preview Service at the preview revision', async () => {
    await router(null).applyPlan(
      plan(
        [
          { revision: 1, weight: 100 },
          { revision: 2, weight: 0 },
        ],
        { previews: [{ listen: { host: '127.0.0.1', port: 81 }, revision: 2 }] },
      ),
    );
    assert.deepEqual((api.objects.get(`${SERVICES}/web-preview`) as any).spec.selector, { [APP]: 'web', [REVISION]: '2' });
  });

  it('canary with an HTTPRoute: weighted backendRefs to per-revision Services, header routes first, parentRefs kept', async () => {
    await router('web').applyPlan(
      plan(
        [
          { revision: 1, weight: 90 },
          { revision: 2, weight: 10 },
        ],
        { routes: [{ revision: 2, match: { header: { name: 'x-beta', value: '1' } } }] },
      ),
    );
    const route = api.objects.get(`${ROUTES}/web`) as any;
    assert.deepEqual(route.spec.parentRefs, [{ name: 'gw' }]);
    assert.deepEqual(route.spec.rules, [
      { matches: [{ headers: [{ type: 'Exact', name: 'x-beta', value: '1' }] }], backendRefs: [{ name: 'web-r2', port: 8080, weight: 1 }] },
      {
        backendRefs: [
          { name: 'web-r1', port: 8080, weight: 90 },
          { name: 'web-r2', port: 8080, weight: 10 },
        ],
      },
    ]);
    assert.deepEqual((api.objects.get(`${SERVICES}/web-r2`) as any).spec.selector, { [APP]: 'web', [REVISION]: '2' });
    assert.deepEqual(
      (api.objects.get(`${SERVICES}/web`) as any).spec.selector,
      { [APP]: 'web' },
      'the main Service spans both revisions while both take traffic',
    );
  });

  it('canary with an HTTPRoute: says which parts of the plan it cannot express (cookie routes)', async () => {
    await router('web').applyPlan(
      plan(
        [
          { revision: 1, weight: 100 },
          { revision: 2, weight: 0 },
        ],
        { routes: [{ revision: 2, match: { cookie: { name: 'beta', value: '1' } } }] },
      ),
    );
    assert.ok(
      notices.some((m) => m.includes('cookie match beta=1')),
      notices.join('\n'),
    );
  });

  it('canary without an HTTPRoute: selects every revision and says the weight is only approximated by the replica ratio', async () => {
    const kube = router(null);
    await kube.applyPlan(plan([{ revision: 1, weight: 100 }]));
    await kube.applyPlan(
      plan([
        { revision: 1, weight: 90 },
        { revision: 2, weight: 10 },
      ]),
    );
    assert.equal(kube.weightMode, 'replica-ratio');
    assert.deepEqual((api.objects.get(`${SERVICES}/web`) as any).spec.selector, { [APP]: 'web' });
    assert.ok(notices.some((m) => m.includes('approximated by the ratio of ready pods')));
  });

  it('retries an HTTPRoute patch that met a 409 Conflict', async () => {
    api.failNext({ method: 'PATCH', pathIncludes: '/httproutes/web', status: 409 });
    await router('web').applyPlan(
      plan([
        { revision: 1, weight: 50 },
        { revision: 2, weight: 50 },
      ]),
    );
    assert.equal(api.pendingFaults(), 0, 'the conflict was met');
    assert.equal((api.objects.get(`${ROUTES}/web`) as any).spec.rules.at(-1).backendRefs[1].weight, 50);
  });

  it('retries a Service selector switch that met a 409 Conflict', async () => {
    const kube = router(null);
    await kube.applyPlan(plan([{ revision: 1, weight: 100 }]));
    api.failNext({ method: 'PATCH', pathIncludes: '/services/web', status: 409, times: 2 });
    await kube.applyPlan(
      plan([
        { revision: 1, weight: 0 },
        { revision: 2, weight: 100 },
      ]),
    );
    assert.equal(api.pendingFaults(), 0, 'both conflicts were met');
    assert.deepEqual((api.objects.get(`${SERVICES}/web`) as any).spec.selector, { [APP]: 'web', [REVISION]: '2' });
  });

  it('an HTTPRoute the server refuses (an empty header name) fails once, naming the route and the field', async () => {
    await assert.rejects(
      router('web').applyPlan(
        plan(
          [
            { revision: 1, weight: 100 },
            { revision: 2, weight: 0 },
          ],
          { routes: [{ revision: 2, match: { header: { name: '', value: '1' } } }] },
        ),
      ),
      (error: any) =>
        error.code === 'KUBERNETES_API_ERROR' &&
        /^setting the rules of HTTPRoute shop\/web failed with 422: HTTPRoute\.gateway\.networking\.k8s\.io "web" is invalid: spec\.rules\[0\]\.matches\[0\]\.headers\[0\]\.name: Invalid value: "": /.test(
          error.message,
        ),
    );
    assert.equal(api.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/httproutes/web')).length, 1, 'a 422 is not retried');
    assert.deepEqual((api.objects.get(`${ROUTES}/web`) as any).spec.rules, [], 'the route is as it was');
    assert.equal(api.rejected.length, 1);
    api.rejected.length = 0;
  });

  it('reports a 422 from the HTTPRoute as a KUBERNETES_API_ERROR', async () => {
    api.failNext({ method: 'PATCH', pathIncludes: '/httproutes/web', status: 422 });
    await assert.rejects(
      router('web').applyPlan(
        plan([
          { revision: 1, weight: 50 },
          { revision: 2, weight: 50 },
        ]),
      ),
      (error: any) => error.code === 'KUBERNETES_API_ERROR' && /HTTPRoute shop\/web failed with 422/.test(error.message),
    );
  });
});
