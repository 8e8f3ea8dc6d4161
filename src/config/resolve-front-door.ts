import { resolve } from 'node:path';
import type { FrontDoorSpec, FrontDoorTlsSpec, HostPort } from '../model/app-spec.js';
import { DEFAULT_ACME_DIRECTORY, DEFAULT_HSTS_MAX_AGE_MS, DEFAULT_REDIRECT_HTTP } from './defaults.js';
import type { RawApp } from './app-schema.js';
import type { RawProxy } from './proxy-schema.js';
import { parseDuration } from './parse-duration.js';
import { parseListen } from './parse-listen.js';

/** `proxy.listen` with addresses parsed; null where not written. */
export function resolveProxyListen(raw: RawProxy | undefined): { http: HostPort | null; https: HostPort | null } {
  const listen = raw?.listen;
  return {
    http: listen?.http === undefined ? null : parseListen(listen.http),
    https: listen?.https === undefined ? null : parseListen(listen.https),
  };
}

/** `proxy.tls` with defaults; the ACME CA file made absolute against the config's folder. */
export function resolveProxyTls(raw: RawProxy | undefined, configDir: string): FrontDoorTlsSpec {
  const tls = raw?.tls;
  const acme = tls?.acme;
  return {
    acme:
      acme === undefined
        ? null
        : {
            email: acme.email,
            directory: acme.directory ?? DEFAULT_ACME_DIRECTORY,
            caFile: acme.caFile === undefined ? null : resolve(configDir, acme.caFile),
          },
    redirectHttp: tls?.redirectHttp ?? DEFAULT_REDIRECT_HTTP,
    hsts: hstsValue(tls?.hsts),
  };
}

/** An app's place on the shared listeners, or undefined when it has no hosts. */
export function resolveFrontDoor(app: RawApp, proxy: RawProxy | undefined, configDir: string): FrontDoorSpec | undefined {
  if (app.hosts === undefined) return undefined;
  const tls = app.tls ?? (proxy?.tls?.acme !== undefined ? 'acme' : false);
  return {
    hosts: [...new Set(app.hosts)],
    paths: [...new Set(app.paths ?? ['/'])],
    tls: typeof tls === 'object' ? { cert: resolve(configDir, tls.cert), key: resolve(configDir, tls.key) } : tls,
  };
}

function hstsValue(hsts: NonNullable<RawProxy['tls']>['hsts']): string | null {
  if (hsts === undefined || hsts === false) return null;
  const options = hsts === true ? {} : hsts;
  const maxAgeMs = options.maxAge === undefined ? DEFAULT_HSTS_MAX_AGE_MS : parseDuration(options.maxAge);
  return [`max-age=${Math.floor(maxAgeMs / 1000)}`, options.includeSubDomains ? 'includeSubDomains' : '', options.preload ? 'preload' : '']
    .filter(Boolean)
    .join('; ');
}
