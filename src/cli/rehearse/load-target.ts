import { hasOwnListener, type AppSpec, type ProxySpec } from '../../model/app-spec.js';

/** Where a rehearsal's load reaches an app: its own address, or the front door with the app's host. */
export interface LoadTarget {
  origin: string;
  /** The Host header (and TLS server name) for an app on the shared listeners. */
  host?: string;
}

/** What a wildcard host (`*.example.com`) is rehearsed as: one name it matches. */
const WILDCARD_LABEL = 'rehearse';

/**
 * The load's target for an app as the rehearsal daemon runs it: its own listener when it has one,
 * else the shared HTTPS listener (its first host, by SNI and Host) when it is served over TLS, or
 * the shared HTTP one. The rehearsal's copy of `proxy.listen` is on loopback ports of its own.
 *
 * @example
 * loadTarget({ ...spec, listen: { host: '', port: 0 }, frontDoor: { hosts: ['*.shop.test'], paths: ['/'], tls: false } }, proxy);
 * // { origin: 'http://127.0.0.1:40123', host: 'rehearse.shop.test' }
 */
export function loadTarget(spec: AppSpec, proxy: ProxySpec): LoadTarget {
  const { frontDoor } = spec;
  if (hasOwnListener(spec.listen) || frontDoor === undefined) return { origin: `http://${spec.listen.host}:${spec.listen.port}` };
  const first = frontDoor.hosts[0]!;
  const host = first.startsWith('*.') ? `${WILDCARD_LABEL}${first.slice(1)}` : first;
  const shared = frontDoor.tls !== false ? proxy.listen.https : proxy.listen.http;
  if (shared === null) return { origin: `http://${spec.listen.host}:${spec.listen.port}` };
  return { origin: `${frontDoor.tls !== false ? 'https' : 'http'}://${shared.host}:${shared.port}`, host };
}
