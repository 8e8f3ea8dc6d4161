import { CutoverError } from '../../errors.js';
import type { AppSpec } from '../../model/app-spec.js';
import type * as KubernetesBackendModule from './kubernetes-backend.js';
import type { RevisionBackend } from './revision-backend.js';

type BackendModule = typeof KubernetesBackendModule;

let loaded: BackendModule | null = null;
let loading: Promise<BackendModule> | null = null;

/**
 * Loads the Kubernetes client, which alone takes about 80 MB of a process's memory, only once an
 * app runs on a cluster: a daemon with local apps never pays for it.
 */
export async function loadKubernetesSupport(): Promise<void> {
  loading ??= import('./kubernetes-backend.js').then((module) => (loaded = module));
  await loading;
}

/**
 * `kubernetesBackend` once its module is loaded. Callers load it first where they can wait (the
 * controller's start, a deploy); should a cluster spec show up elsewhere first, loading starts
 * and the caller fails this once: a reconcile pass is tried again a tick later.
 */
export function kubernetesBackend(spec: AppSpec, onNotice: (message: string) => void, options: { holder: string }): RevisionBackend | null {
  if (spec.runtime?.kind !== 'kubernetes') return null;
  if (loaded) return loaded.kubernetesBackend(spec, onNotice, options);
  void loadKubernetesSupport();
  throw new CutoverError('KUBERNETES_API_ERROR', `the Kubernetes client is still loading for app "${spec.name}"`, {
    hint: 'this passes by itself: the next reconcile uses it',
  });
}

/** Whether any of these specs needs the Kubernetes client. */
export function needsKubernetes(specs: readonly (AppSpec | undefined)[]): boolean {
  return specs.some((spec) => spec?.runtime?.kind === 'kubernetes');
}
