import type { ProxySpec } from '../model/app-spec.js';
import type { FrontDoorOptions } from '../proxy/front-door/front-door.js';
import type { ProxyOptions } from '../proxy/proxy-options.js';

/** The environment variable that carries the front door's settings (`proxy.listen`, `proxy.tls`) to proxy workers. */
export const WORKER_FRONT_DOOR_ENV = 'CUTOVER_FRONT_DOOR';

/** The front door of the `proxy:` block, with the data dir where ACME certificates and challenges live. */
export function frontDoorOptionsFromSpec(spec: ProxySpec, dataDir: string, awaitedApps: string[] = []): FrontDoorOptions {
  return {
    http: spec.listen?.http ?? null,
    https: spec.listen?.https ?? null,
    redirectHttp: spec.tls?.redirectHttp ?? true,
    hsts: spec.tls?.hsts ?? null,
    dataDir,
    ...(awaitedApps.length > 0 ? { awaitedApps } : {}),
  };
}

/**
 * The environment a proxy worker starts with: its role, and the `proxy:` block's options and
 * front door. `awaitedApps`: see `FrontDoorOptions.awaitedApps`.
 */
export function workerEnvironment(proxy: ProxySpec | undefined, dataDir: string, awaitedApps: string[]): NodeJS.ProcessEnv {
  if (proxy === undefined) return { CUTOVER_ROLE: 'worker' };
  return {
    CUTOVER_ROLE: 'worker',
    [WORKER_PROXY_OPTIONS_ENV]: JSON.stringify(proxyOptionsFromSpec(proxy)),
    [WORKER_FRONT_DOOR_ENV]: JSON.stringify(frontDoorOptionsFromSpec(proxy, dataDir, awaitedApps)),
  };
}

/** Reads the front door's settings the primary put in the worker's environment; undefined: no shared listeners. */
export function workerFrontDoorOptions(env: NodeJS.ProcessEnv = process.env): FrontDoorOptions | undefined {
  const text = env[WORKER_FRONT_DOOR_ENV];
  return text ? (JSON.parse(text) as FrontDoorOptions) : undefined;
}

/** The environment variable that carries the `proxy:` block of cutover.yaml to proxy workers. */
export const WORKER_PROXY_OPTIONS_ENV = 'CUTOVER_PROXY_OPTIONS';

/** The proxy worker options for the `proxy:` block of cutover.yaml. */
export function proxyOptionsFromSpec(spec: ProxySpec): Partial<ProxyOptions> {
  return {
    maxHeaderBytes: spec.maxHeaderBytes,
    maxRequestLineBytes: spec.maxRequestLineBytes,
    maxHeaderCount: spec.maxHeaderCount,
    maxBodyBytes: spec.maxBodyBytes,
    clientHeadersTimeoutMs: spec.headerTimeoutMs,
    minBodyBytesPerSecond: spec.minBodyBytesPerSecond,
    maxConnections: spec.maxConnections,
    trustedProxies: spec.trustedProxies,
  };
}

/** Reads the options the primary put in the worker's environment (none: the defaults). */
export function workerProxyOptions(env: NodeJS.ProcessEnv = process.env): Partial<ProxyOptions> {
  const text = env[WORKER_PROXY_OPTIONS_ENV];
  return text ? (JSON.parse(text) as Partial<ProxyOptions>) : {};
}
