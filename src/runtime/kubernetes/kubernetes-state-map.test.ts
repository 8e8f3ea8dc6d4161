/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read stored objects and thrown errors as untyped JSON */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../../../test/helpers/fake-kube-api.js';
import type { ClusterAppState } from '../../store/store.js';
import { createKubeClients } from './kube-clients.js';
import { KubernetesStateMap, SERIAL_ANNOTATION, STATE_KEY, WRITTEN_BY_ANNOTATION } from './kubernetes-state-map.js';

const MAP = '/api/v1/namespaces/shop/configmaps/cutover-web';
const STATE: ClusterAppState = {
  app: 'web',
  stableRevision: 1,
  revisions: [{ app: 'web', number: 1, spec: { name: 'web' } as never, specHash: 'h1', createdAt: 1 }],
  rollouts: [],
};

describe('KubernetesStateMap against the fake API server', () => {
  let api: FakeKubeApi;
  const map = () => new KubernetesStateMap(createKubeClients({ server: api.url, namespace: 'shop' }), 'web');
  const storeRaw = (stateJson: string) =>
    api.put('/api/v1/namespaces/shop/configmaps', {
      metadata: { name: 'cutover-web', annotations: { [WRITTEN_BY_ANNOTATION]: 'x', [SERIAL_ANNOTATION]: '3' } },
      data: { [STATE_KEY]: stateJson },
    });

  beforeEach(async () => {
    await api?.close();
    api = await startFakeKubeApi();
  });
  after(() => api.close());

  it('reads nothing before the first write, then what was written, with who wrote it and a serial that counts writes', async () => {
    const writer = map();
    assert.equal(await writer.read(), null);
    assert.equal(await writer.write(STATE, 'runner:/srv/.cutover'), 1);
    assert.equal(await writer.write({ ...STATE, stableRevision: 2 }, 'runner:/srv/.cutover'), 2);
    const stored = api.objects.get(MAP) as any;
    assert.equal(stored.metadata.labels['app.kubernetes.io/managed-by'], 'cutover');
    const found = await map().read();
    assert.deepEqual(found, { writtenBy: 'runner:/srv/.cutover', serial: 2, state: { ...STATE, stableRevision: 2 } });
  });

  it('a write that meets a newer ConfigMap (409) reads it again and writes over it, counting on from its serial', async () => {
    const writer = map();
    await writer.write(STATE, 'a');
    await map().write(STATE, 'b'); // written meanwhile, so the first writer's resourceVersion is stale
    assert.equal(await writer.write(STATE, 'a'), 3);
    assert.equal((api.objects.get(MAP) as any).metadata.annotations[WRITTEN_BY_ANNOTATION], 'a');
  });

  it("a ConfigMap that is not cutover's state is refused with what is wrong and how to fix it", async () => {
    storeRaw('{ not json');
    await assert.rejects(
      map().read(),
      (error: any) =>
        error.code === 'CLUSTER_STATE_UNREADABLE' &&
        /ConfigMap shop\/cutover-web key state\.json: it is not JSON/.test(error.message) &&
        /kubectl/.test(error.hint),
    );
    storeRaw(JSON.stringify({ format: 1, app: 'web', stableRevision: 'one', revisions: [], rollouts: [] }));
    await assert.rejects(map().read(), (error: any) => error.code === 'CLUSTER_STATE_UNREADABLE' && /stableRevision/.test(error.message));
    storeRaw(JSON.stringify({ format: 1, app: 'shop', stableRevision: null, revisions: [], rollouts: [] }));
    await assert.rejects(map().read(), (error: any) => /holds app "shop", not "web"/.test(error.message));
    storeRaw(JSON.stringify({ format: 2 }));
    await assert.rejects(map().read(), (error: any) => /newer cutover \(format 2/.test(error.message) && /upgrade cutover/.test(error.hint));
  });

  it('a 500 is a KUBERNETES_API_ERROR naming the ConfigMap', async () => {
    api.failNext({ method: 'GET', pathIncludes: '/configmaps/cutover-web', status: 500 });
    await assert.rejects(
      map().read(),
      (error: any) => error.code === 'KUBERNETES_API_ERROR' && /reading ConfigMap shop\/cutover-web failed with 500/.test(error.message),
    );
  });
});
