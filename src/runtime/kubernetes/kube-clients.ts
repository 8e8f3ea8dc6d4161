import { ApiException, AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CutoverError } from '../../errors.js';

/** Labels on every object cutover owns on a cluster. */
export const APP_LABEL = 'app.kubernetes.io/name';
export const REVISION_LABEL = 'cutover.dev/revision';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'cutover';

/** Times a write that met a 409 Conflict is tried again, each after a fresh read. */
export const MAX_CONFLICT_RETRIES = 5;

/** The API groups cutover talks to, made from one kubeconfig. */
export interface KubeClients {
  namespace: string;
  apps: AppsV1Api;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
}

/** Request options that send a body as a JSON merge patch (RFC 7386). */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * Clients for a kubeconfig context (KUBECONFIG honoured), or for an explicit server (tests).
 *
 * @example
 * const clients = createKubeClients({ context: 'prod', namespace: 'shop' });
 */
export function createKubeClients(options: KubeConfigOptions & { namespace?: string | null }): KubeClients {
  const config = loadKubeConfig(options);
  const namespace = options.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
  return { namespace, apps: config.makeApiClient(AppsV1Api), core: config.makeApiClient(CoreV1Api), custom: config.makeApiClient(CustomObjectsApi), coordination: config.makeApiClient(CoordinationV1Api) };
}

export interface KubeConfigOptions {
  context?: string | null;
  /** An explicit API server (tests): TLS is not verified, `token` is the bearer token. */
  server?: string;
  token?: string;
}

/** The kubeconfig for a context (KUBECONFIG honoured, else ~/.kube/config), or for an explicit server. */
export function loadKubeConfig(options: KubeConfigOptions): KubeConfig {
  const config = new KubeConfig();
  if (options.server !== undefined) {
    config.loadFromOptions({
      clusters: [{ name: 'cluster', server: options.server, skipTLSVerify: true }],
      users: [{ name: 'user', ...(options.token === undefined ? {} : { token: options.token }) }],
      contexts: [{ name: 'context', cluster: 'cluster', user: 'user' }],
      currentContext: 'context',
    });
  } else {
    config.loadFromDefault();
    if (options.context) config.setCurrentContext(options.context);
  }
  return config;
}

export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/**
 * Runs a read-modify-write; on 409 Conflict reads again and retries, up to MAX_CONFLICT_RETRIES.
 * Other errors become a KUBERNETES_API_ERROR with the status and what was being done.
 */
export async function withConflictRetry<T>(what: string, write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (statusOf(error) === 409 && attempt < MAX_CONFLICT_RETRIES) continue;
      throw kubernetesError(what, error);
    }
  }
}

export function kubernetesError(what: string, error: unknown): CutoverError {
  if (error instanceof CutoverError) return error;
  const status = statusOf(error);
  const body = error instanceof ApiException ? (error.body as unknown) : undefined;
  const detail = typeof body === 'string' ? safeMessage(body) : (error as Error).message;
  return new CutoverError('KUBERNETES_API_ERROR', `${what} failed${status === undefined ? '' : ` with ${status}`}: ${detail}`, {
    hint: status === 403 ? 'give the account a Role with the verbs cutover uses (see the README, Kubernetes)' : 'check the cluster and run the command again; every write is idempotent',
    cause: error,
  });
}

function safeMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}
