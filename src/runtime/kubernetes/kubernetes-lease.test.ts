/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read stored objects as untyped JSON */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../../../test/helpers/fake-kube-api.js';
import { createKubeClients } from './kube-clients.js';
import { KubernetesLease, microTime, ROLLOUT_ANNOTATION } from './kubernetes-lease.js';

const LEASE = '/apis/coordination.k8s.io/v1/namespaces/shop/leases/cutover-web';

describe('KubernetesLease against the fake API server', () => {
  let api: FakeKubeApi;
  let nowMs = Date.parse('2026-11-29T12:00:00Z');
  const lease = (holder: string) => new KubernetesLease(createKubeClients({ server: api.url, namespace: 'shop' }), 'web', holder, 15, () => nowMs);

  beforeEach(async () => {
    await api?.close();
    api = await startFakeKubeApi();
  });
  afterEach(() => assert.deepEqual(api.rejected, [], 'the provider sent only objects the schemas accept'));
  after(() => api.close());

  it('the first holder takes it with a six-digit MicroTime; another is told who holds it and until when', async () => {
    assert.deepEqual(await lease('a').hold('{"rollout":1}'), { isHeld: true });
    const stored = api.objects.get(LEASE) as any;
    assert.equal(stored.spec.holderIdentity, 'a');
    assert.equal(stored.spec.renewTime, '2026-11-29T12:00:00.000000Z');
    assert.equal(stored.metadata.annotations[ROLLOUT_ANNOTATION], '{"rollout":1}');
    assert.deepEqual(await lease('b').hold(null), { isHeld: false, holder: 'a', expiresAt: new Date('2026-11-29T12:00:15Z') });
  });

  it('an expired Lease is taken over, and the transition counted', async () => {
    await lease('a').hold(null);
    nowMs += 16_000;
    assert.deepEqual(await lease('b').hold(null), { isHeld: true });
    assert.equal((api.objects.get(LEASE) as any).spec.leaseTransitions, 1);
  });

  it('a write that lost a race (409) reads again and finds the winner', async () => {
    await lease('a').hold(null);
    nowMs += 16_000;
    const b = lease('b');
    api.failNext({ method: 'PATCH', pathIncludes: '/leases/cutover-web', status: 409 });
    assert.deepEqual(await b.hold(null), { isHeld: true }, 'the retry after the conflict takes it');
    assert.equal(api.pendingFaults(), 0, 'the conflict was met');
    assert.equal((api.objects.get(LEASE) as any).spec.holderIdentity, 'b');
  });

  it('a Lease created by someone else between our read and our create (409) is read again', async () => {
    await lease('a').hold(null);
    // b's first read misses a's Lease (as if a created it just after); b's create then meets a real 409.
    api.failNext({ method: 'GET', pathIncludes: '/leases/cutover-web', status: 404 });
    assert.deepEqual(await lease('b').hold(null), { isHeld: false, holder: 'a', expiresAt: new Date(nowMs + 15_000) });
    assert.equal(api.requests.filter((r) => r.method === 'POST').at(-1)?.status, 409);
    assert.equal(api.pendingFaults(), 0);
  });

  it("release deletes only the holder's own Lease", async () => {
    const a = lease('a');
    await a.hold(null);
    await lease('b').release();
    assert.equal(api.objects.has(LEASE), true);
    await a.release();
    assert.equal(api.objects.has(LEASE), false);
  });

  it('microTime writes six fractional digits', () => {
    assert.equal(microTime(Date.parse('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05.678000Z');
  });
});
