/**
 * Plays the ReplicaSet controller and the kubelet on the fake API server (fake-kube-api.ts): for
 * every ReplicaSet it makes or removes pods until their number is spec.replicas, gives them the
 * ReplicaSet's template labels, and makes them Ready with an IP unless `isReady` says no. Pods of
 * a deleted ReplicaSet go too. Runs every `everyMs` until stopped.
 *
 * @example
 * const pods = fakeReplicaSets(api, 'shop', (revision) => revision !== 3);
 * pods.stop();
 */
import type { FakeKubeApi } from './fake-kube-api.js';

type Labels = Record<string, string>;

export function fakeReplicaSets(api: FakeKubeApi, namespace: string, isReady: (revision: number) => boolean = () => true, everyMs = 20): { stop(): void } {
  const replicaSets = `/apis/apps/v1/namespaces/${namespace}/replicasets/`;
  const pods = `/api/v1/namespaces/${namespace}/pods`;
  let serial = 0;
  const sync = (): void => {
    const owners = new Map<string, { replicas: number; labels: Labels }>();
    for (const [path, object] of api.objects) {
      if (!path.startsWith(replicaSets)) continue;
      const spec = object['spec'] as { replicas: number; template: { metadata: { labels: Labels } } };
      owners.set(object.metadata.name, { replicas: spec.replicas, labels: spec.template.metadata.labels });
    }
    const podsOf = new Map<string, string[]>();
    for (const [path, object] of api.objects) {
      if (!path.startsWith(`${pods}/`)) continue;
      const owner = object.metadata.labels?.['fake/owner'] ?? '';
      if (!owners.has(owner)) api.objects.delete(path);
      else podsOf.set(owner, [...(podsOf.get(owner) ?? []), path]);
    }
    for (const [name, { replicas, labels }] of owners) {
      const existing = podsOf.get(name) ?? [];
      for (const path of existing.slice(replicas)) api.objects.delete(path);
      for (let n = existing.length; n < replicas; n++) {
        const podName = `${name}-${(++serial).toString(36)}`;
        const ready = isReady(Number(labels['cutover.dev/revision']));
        api.put(pods, {
          metadata: { name: podName, labels: { ...labels, 'fake/owner': name } },
          status: {
            podIP: `10.1.${Math.floor(serial / 250)}.${(serial % 250) + 1}`,
            conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date().toISOString() }],
          },
        });
      }
    }
  };
  const timer = setInterval(sync, everyMs);
  return { stop: () => clearInterval(timer) };
}
