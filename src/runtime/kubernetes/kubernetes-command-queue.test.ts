/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read stored objects as untyped JSON */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { startFakeKubeApi, type FakeKubeApi } from '../../../test/helpers/fake-kube-api.js';
import { createKubeClients } from './kube-clients.js';
import { KubernetesCommandQueue } from './kubernetes-command-queue.js';

const MAP = '/api/v1/namespaces/shop/configmaps/cutover-web-commands';

describe('KubernetesCommandQueue against the fake API server', () => {
  let api: FakeKubeApi;
  let nowMs = 1_000;
  const unanswered = async (q: KubernetesCommandQueue) => (await q.list()).filter((c) => c.answer === null);
  const queue = () => new KubernetesCommandQueue(createKubeClients({ server: api.url, namespace: 'shop' }), 'web', () => nowMs);

  beforeEach(async () => {
    await api?.close();
    api = await startFakeKubeApi();
  });
  after(() => api.close());

  it('a sent command waits for the holder, which takes it, then answers; the answer reaches the sender, who forgets it', async () => {
    const laptop = queue();
    const id = await laptop.send({ verb: 'promote', isFull: true }, 'laptop:/home/me/.cutover');
    assert.equal((api.objects.get(MAP) as any).metadata.labels['app.kubernetes.io/managed-by'], 'cutover');
    const holder = queue();
    const [pending] = await unanswered(holder);
    assert.deepEqual([pending?.id, pending?.command, pending?.by], [id, { verb: 'promote', isFull: true }, 'laptop:/home/me/.cutover']);
    await holder.answer(pending!, { state: 'taken' });
    assert.deepEqual(await unanswered(holder), [], 'a taken command is never run again');
    assert.deepEqual(await laptop.answerOf(id), { state: 'taken' });
    await holder.answer(pending!, { state: 'done', code: 'NOT_PAUSED', message: 'rollout 4 of "web" is not paused by a person', hint: 'Nothing to resume.' });
    assert.deepEqual(await laptop.answerOf(id), {
      state: 'done',
      code: 'NOT_PAUSED',
      message: 'rollout 4 of "web" is not paused by a person',
      hint: 'Nothing to resume.',
    });
    await laptop.forget([id]);
    assert.deepEqual(await holder.list(), []);
  });

  it('two senders add to one ConfigMap without overwriting each other (merge patches of their own keys), oldest first', async () => {
    const first = await queue().send({ verb: 'pause' }, 'a');
    nowMs += 1;
    const second = await queue().send({ verb: 'rollback', toRevision: 3 }, 'b');
    assert.deepEqual(
      (await unanswered(queue())).map((c) => [c.id, c.command.verb]),
      [
        [first, 'pause'],
        [second, 'rollback'],
      ],
    );
    assert.ok(api.requests.filter((r) => r.method === 'PATCH').every((r) => r.contentType === 'application/merge-patch+json'));
  });

  it('entries that are not commands are skipped, not obeyed', async () => {
    api.put('/api/v1/namespaces/shop/configmaps', {
      metadata: { name: 'cutover-web-commands' },
      data: { junk: '{ not json', odd: JSON.stringify({ command: { verb: 'delete-everything' }, by: 'x', at: 1, answer: null }) },
    });
    assert.deepEqual(await unanswered(queue()), []);
  });

  it('a 500 while sending is a KUBERNETES_API_ERROR naming the ConfigMap', async () => {
    api.failNext({ method: 'PATCH', pathIncludes: '/configmaps/cutover-web-commands', status: 500 });
    await assert.rejects(
      queue().send({ verb: 'abort' }, 'a'),
      (error: any) => error.code === 'KUBERNETES_API_ERROR' && /ConfigMap shop\/cutover-web-commands/.test(error.message),
    );
  });
});
