import path from 'node:path';
import type { HostPort } from '../../model/app-spec.js';

/**
 * How cutover's traffic plans map onto HAProxy objects, for one app whose weighted backend is
 * `backend` (the same names in managed and external mode):
 *
 * - `BACKEND`: every endpoint of the plan, one server each, weighted (`set server … weight`);
 *   it serves requests that no route, preview or sticky rule claimed.
 * - `BACKEND_r0` … `BACKEND_r{n-1}`: revision backends, one revision each, for requests that must
 *   reach one revision (routes, previews, sticky clients).
 * - maps (file names): `BACKEND.hdr.NAME.map` and `BACKEND.cookie.NAME.map` (value → revision
 *   backend, one map per header or cookie a route matches), `BACKEND.sticky.map` (hash bucket
 *   0..99 → revision backend), `BACKEND.preview.map` (`host:port` of a preview listener →
 *   revision backend) and `BACKEND.meta.map` (`ttl` → the sticky cookie's Max-Age in seconds).
 */
export const REVISION_BACKENDS = 3;
export const STICKY_BUCKETS = 100;

export type MapKind = { header: string } | { cookie: string } | 'sticky' | 'preview' | 'meta';

export function revisionBackendName(backend: string, index: number): string {
  return `${backend}_r${index}`;
}

/** The file name (no directory) of one of an app's maps. */
export function mapFileName(backend: string, kind: MapKind): string {
  if (typeof kind === 'string') return `${backend}.${kind}.map`;
  if ('header' in kind) return `${backend}.hdr.${kind.header.toLowerCase()}.map`;
  return `${backend}.cookie.${kind.cookie}.map`;
}

export function mapFilePath(dir: string, backend: string, kind: MapKind): string {
  return path.join(dir, mapFileName(backend, kind));
}

export function listenKey(address: HostPort): string {
  return `${address.host}:${address.port}`;
}

/** The default backend name of an app when the config names none. */
export function defaultBackendName(app: string): string {
  return `cutover_${app.replace(/-/g, '_')}`;
}
