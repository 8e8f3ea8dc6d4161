import type { AppSpec } from '../../model/app-spec.js';
import { KubernetesRouter } from '../../router/kubernetes/kubernetes-router.js';
import { createKubeClients, type KubeClients } from '../../runtime/kubernetes/kube-clients.js';
import { KubernetesRuntime } from '../../runtime/kubernetes/kubernetes-runtime.js';
import { KubernetesLease } from './kubernetes-lease.js';
import { KubernetesStateMap } from './kubernetes-state-map.js';
import { KubernetesCommandQueue } from './kubernetes-command-queue.js';
import type { RevisionBackend } from './revision-backend.js';

/**
 * Kubernetes apps get a KubernetesRuntime and a KubernetesRouter on one set of clients (their
 * kubeconfig context and namespace), a Lease `cutover-APP`, a ConfigMap `cutover-APP` with the
 * app's state and one `cutover-APP-commands` for commands from other cutovers; with no `router.kubernetes`, the Service is named after the app and weights are
 * approximated by the replica ratio.
 *
 * @example
 * const backend = kubernetesBackend(spec, log, { holder: leaseHolderFor(dataDir) }); // null for a local app
 */
export function kubernetesBackend(
  spec: AppSpec,
  onNotice: (message: string) => void,
  options: { holder: string; clients?: KubeClients },
): RevisionBackend | null {
  const runtime = spec.runtime;
  if (runtime?.kind !== 'kubernetes') return null;
  const kube = options.clients ?? createKubeClients({ context: runtime.context, namespace: runtime.namespace });
  const router = spec.router?.kind === 'kubernetes' ? spec.router : { service: spec.name, httpRoute: null };
  return {
    runtime: new KubernetesRuntime(kube, spec, onNotice),
    router: new KubernetesRouter(kube, { app: spec.name, service: router.service, httpRoute: router.httpRoute, port: runtime.port, onNotice }),
    lease: new KubernetesLease(kube, spec.name, options.holder),
    state: new KubernetesStateMap(kube, spec.name),
    commands: new KubernetesCommandQueue(kube, spec.name),
  };
}
