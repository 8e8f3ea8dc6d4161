import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  ServerConfiguration,
  setHeaderOptions,
  wrapHttpLibrary,
  type Configuration,
  type HttpLibrary,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { CutoverError } from '../../errors.js';
import { KubernetesApiError } from './kubernetes-api-error.js';

// Callers that only need to recognise the error import it from kubernetes-api-error.js, which
// does not load the Kubernetes client.
export { KubernetesApiError };

/** Labels on every object cutover owns on a cluster. */
export const APP_LABEL = 'app.kubernetes.io/name';
export const REVISION_LABEL = 'cutover.dev/revision';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'cutover';

/** Times a write that met a 409 Conflict is tried again, each after a fresh read. */
export const MAX_CONFLICT_RETRIES = 5;

/**
 * How long one Kubernetes API call may take, answer body included, before it fails as timed out:
 * a hung API server (or a connection that stalls) must not hold the reconcile loop.
 */
export const DEFAULT_KUBE_REQUEST_TIMEOUT_MS = 10_000;

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
export function createKubeClients(options: KubeConfigOptions & { namespace?: string | null; requestTimeoutMs?: number }): KubeClients {
  const config = loadKubeConfig(options);
  const namespace = options.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
  const configuration = apiConfiguration(config, options.requestTimeoutMs ?? DEFAULT_KUBE_REQUEST_TIMEOUT_MS);
  return {
    namespace,
    apps: new AppsV1Api(configuration),
    core: new CoreV1Api(configuration),
    custom: new CustomObjectsApi(configuration),
    coordination: new CoordinationV1Api(configuration),
  };
}

/**
 * What `KubeConfig.makeApiClient` builds (the current cluster, the kubeconfig's auth), with every
 * request given an AbortSignal that fires after `timeoutMs`. node-fetch (under client-node 1.4)
 * aborts the request and the reading of its body alike; the abort becomes a KubeRequestTimeout.
 */
function apiConfiguration(config: KubeConfig, timeoutMs: number): Configuration {
  const cluster = config.getCurrentCluster();
  if (!cluster)
    throw new CutoverError('KUBECONFIG_INVALID', `the kubeconfig has no cluster for context "${config.getCurrentContext()}"`, {
      hint: 'pick a context with a cluster: kubectl config get-contexts',
    });
  const base = createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: config } });
  return { ...base, httpApi: withTimeout(base.httpApi, timeoutMs) };
}

/** A request that got no (complete) answer within its timeout. */
export class KubeRequestTimeout extends Error {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out: no complete answer from ${new URL(url).origin} within ${timeoutMs} ms`);
    this.name = 'KubeRequestTimeout';
  }
}

function withTimeout(inner: HttpLibrary, timeoutMs: number): HttpLibrary {
  return wrapHttpLibrary({
    async send(request: RequestContext): Promise<ResponseContext> {
      const signal = AbortSignal.timeout(timeoutMs);
      request.setSignal(signal);
      const timedOut = (error: unknown): never => {
        throw signal.aborted ? new KubeRequestTimeout(request.getUrl(), timeoutMs) : error;
      };
      const response = await inner.send(request).toPromise().catch(timedOut);
      const { body } = response;
      response.body = { text: () => body.text().catch(timedOut), binary: () => body.binary().catch(timedOut) };
      return response;
    },
  });
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
  return new KubernetesApiError(`${what} failed${status === undefined ? '' : ` with ${status}`}: ${detail}`, {
    status,
    hint: status === 403 ? 'give the account a Role with the verbs cutover uses (see docs/kubernetes.md)' : hintFor(status),
    cause: error,
  });
}

function hintFor(status: number | undefined): string {
  if (status === 400 || status === 422) return 'the cluster refused the object: fix the pod template or the config (the message names the field)';
  return 'check the cluster and run the command again; every write is idempotent';
}

function safeMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}
