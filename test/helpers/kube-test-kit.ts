/**
 * What the suites against the real kube-apiserver share: waiting on the cluster, reading pod and
 * Service addresses, and a controller that finds the cluster as a user's would (KUBECONFIG).
 *
 * @example
 * const kube = await startKubeController(plane.kubeconfigPath, 'cutover-kube-canary-');
 * await eventually('two pods of revision 2', () => podIps(clients, 2), (ips) => ips.length === 2);
 * await kube.close();
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller } from '../../src/controller/controller.js';
import type { KubeClients } from '../../src/runtime/kubernetes/kube-clients.js';
import { LocalRuntime } from '../../src/runtime/local/local-runtime.js';
import { specHash } from '../../src/spec/index.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

export const KUBE_WAIT_MS = 60_000;

/** Polls `read` every 100 ms until `isDone` says so; fails with the last value after `waitMs`. */
export async function eventually<T>(what: string, read: () => Promise<T> | T, isDone: (value: T) => boolean, waitMs = KUBE_WAIT_MS): Promise<T> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const value = await read();
    if (isDone(value)) return value;
    if (performance.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

/** The IPs of a revision's pods that are not being deleted, sorted. */
export async function podIps(clients: KubeClients, revision: number): Promise<string[]> {
  const pods = await clients.core.listNamespacedPod({ namespace: clients.namespace, labelSelector: `cutover.dev/revision=${revision}` });
  return pods.items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => p.status?.podIP)
    .filter((ip): ip is string => ip !== undefined)
    .sort();
}

/** The addresses of a Service's Endpoints (none while it has no Endpoints), sorted. */
export async function endpointIps(clients: KubeClients, service: string): Promise<string[]> {
  const endpoints = await clients.core.readNamespacedEndpoints({ name: service, namespace: clients.namespace }).catch(() => null);
  return (endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
}

export interface KubeController {
  controller: Controller;
  store: SqliteStore;
  dir: string;
  /** Shuts the controller down, closes its store, removes its data dir and puts KUBECONFIG back. */
  close(): Promise<void>;
}

/** A started controller on a data dir of its own, with KUBECONFIG pointing at the test cluster (as a user's would) until `close`. */
export async function startKubeController(kubeconfigPath: string, dirPrefix: string): Promise<KubeController> {
  const previous = process.env.KUBECONFIG;
  process.env.KUBECONFIG = kubeconfigPath;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  const store = new SqliteStore(path.join(dir, 'state.db'));
  const controller = new Controller({
    store,
    runtime: new LocalRuntime(),
    router: { applyPlan: async () => {}, removeApp: async () => {}, inflight: async () => ({}) },
    dataDir: dir,
    specHash,
  });
  await controller.start();
  return {
    controller,
    store,
    dir,
    close: async () => {
      await controller.shutdown();
      store.close();
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
