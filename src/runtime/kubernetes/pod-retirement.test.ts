/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read stored objects as untyped JSON */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../../../test/helpers/fake-kube-api.js';
import { createKubeClients } from './kube-clients.js';
import { LEAVING_LABEL, PodRetirement } from './pod-retirement.js';

const PODS = '/api/v1/namespaces/shop/pods';
const ENDPOINTS = '/api/v1/namespaces/shop/endpoints';

function pod(name: string) {
  return {
    metadata: { name, labels: { 'app.kubernetes.io/name': 'web', 'cutover.dev/revision': '2' } },
    status: { podIP: '10.0.0.9', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function endpointsListing(pods: string[]) {
  return { metadata: { name: 'web' }, subsets: [{ addresses: pods.map((name) => ({ ip: '10.0.0.9', targetRef: { kind: 'Pod', name } })) }] };
}

describe('PodRetirement: a pod leaves traffic before it is stopped', () => {
  let api: FakeKubeApi;
  let retirement: PodRetirement;
  before(async () => {
    api = await startFakeKubeApi();
    retirement = new PodRetirement(createKubeClients({ server: api.url, namespace: 'shop' }), 'web', 0);
  });
  after(() => api.close());

  it('relabels the pod out of every Service of the app (and its ReplicaSet), keeping its revision', async () => {
    api.put(PODS, pod('web-r2-a'));
    await retirement.takeOut(['web-r2-a', 'web-r2-gone']);
    const labels = (api.objects.get(`${PODS}/web-r2-a`) as any).metadata.labels;
    assert.equal(labels['app.kubernetes.io/name'], undefined);
    assert.equal(labels[LEAVING_LABEL], 'web');
    assert.equal(labels['cutover.dev/revision'], '2');
    assert.deepEqual(await retirement.leavingPods(), ['web-r2-a']);
  });

  it('deletes the pod only once no Endpoints object lists it', async () => {
    api.put(ENDPOINTS, endpointsListing(['web-r2-a']));
    const retired = retirement.retire(['web-r2-a']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.ok(api.objects.has(`${PODS}/web-r2-a`), 'still there while an Endpoints object lists it');
    api.put(ENDPOINTS, endpointsListing([]));
    await retired;
    assert.equal(api.objects.has(`${PODS}/web-r2-a`), false, 'deleted once it left the Endpoints');
  });
});
