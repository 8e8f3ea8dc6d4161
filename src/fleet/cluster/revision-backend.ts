import type { AppSpec } from '../../model/app-spec.js';
import type { TrafficRouter } from '../../router/traffic-router.js';
import type { RevisionRuntime } from '../../runtime/runtime.js';
import type { LeaseState } from './kubernetes-lease.js';
import os from 'node:os';
import type { ClusterStateDocument } from './kubernetes-state-map.js';
import type { KubernetesCommandQueue } from './kubernetes-command-queue.js';
import type { ClusterAppState } from '../../store/store.js';

/** Where an app runs when a cluster, not the controller, runs its instances: replica counts per revision, and the router of that cluster. */
export interface RevisionBackend {
  runtime: RevisionRuntime;
  router: TrafficRouter;
  /** One driver per app at a time: held (and renewed) while this controller drives the app, with where its rollout stands. */
  lease?: { hold(summary: string | null): Promise<LeaseState>; release(): Promise<void>; readonly name: string; readonly holder: string };
  /** Where the app's state lives on the cluster, so that any machine can drive it on (see KubernetesStateMap). */
  state?: { read(): Promise<ClusterStateDocument | null>; write(state: ClusterAppState, writtenBy: string): Promise<number>; readonly name: string };
  /** Commands from cutovers that do not hold the Lease, to the one that does. */
  commands?: KubernetesCommandQueue;
}

/**
 * Who holds an app's Lease: this machine and the data dir whose state drives the app. A
 * controller restarted on the same data dir (after a crash) is the same holder and goes on at
 * once; another data dir or machine is another cutover and is refused.
 */
export function leaseHolderFor(dataDir: string): string {
  return `${os.hostname()}:${dataDir}`;
}

/** The backend of an app's spec, or null when the controller runs its instances itself (local processes). */
export type RevisionBackendFactory = (spec: AppSpec, onNotice: (message: string) => void) => RevisionBackend | null;
