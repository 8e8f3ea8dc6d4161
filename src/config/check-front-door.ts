import { normalizePathPrefix } from '../proxy/front-door/host-names.js';
import type { Finding } from './finding.js';
import { formatListen, listensOverlap as overlaps, tryParseListen as tryListen } from './parse-listen.js';

/**
 * The front door's checks that span several keys: `hosts`, `paths` and `tls` of each app against
 * `proxy.listen`, `proxy.tls` and the other apps. Values of the wrong type are skipped (the
 * schema reports those).
 */
export function checkFrontDoor(raw: Record<string, unknown>, apps: Record<string, unknown>): Finding[] {
  const proxy = isRecord(raw['proxy']) ? raw['proxy'] : {};
  const listen = isRecord(proxy['listen']) ? proxy['listen'] : {};
  const tls = isRecord(proxy['tls']) ? proxy['tls'] : {};
  const hasHttp = listen['http'] !== undefined;
  const hasHttps = listen['https'] !== undefined;
  const hasAcme = isRecord(tls['acme']);
  const findings: Finding[] = [...checkSharedListeners(listen, apps)];
  /** Who claimed each `host path` first. */
  const claims = new Map<string, string>();
  /** The first app on each host, and its certificate source: every app on a host shares the one the handshake shows. */
  const hostTls = new Map<string, { app: string; source: string }>();
  for (const [name, app] of Object.entries(apps)) {
    if (!isRecord(app)) continue;
    const at = (key: string): (string | number)[] => ['apps', name, key];
    const hosts = Array.isArray(app['hosts']) ? app['hosts'].filter((h): h is string => typeof h === 'string') : undefined;
    if (hosts === undefined) {
      for (const key of ['paths', 'tls']) {
        if (app[key] !== undefined)
          findings.push({
            path: at(key),
            at: 'key',
            message: `${key} needs hosts: app "${name}" is not on the shared listeners`,
            hint: `add hosts: [example.com] to app "${name}"`,
          });
      }
      continue;
    }
    const router = isRecord(app['router']) ? app['router'] : isRecord(raw['router']) ? raw['router'] : {};
    const foreign = ['haproxy', 'kubernetes'].find((kind) => router[kind] !== undefined);
    if (foreign !== undefined) {
      findings.push({
        path: at('hosts'),
        at: 'key',
        message: `hosts need the built-in proxy, but app "${name}" uses the ${foreign} router`,
        hint: 'remove hosts, or use the built-in router',
      });
      continue;
    }
    if (!hasHttp && !hasHttps) {
      findings.push({
        path: at('hosts'),
        at: 'key',
        message: `app "${name}" has hosts, but there is no shared listener`,
        hint: 'add proxy: { listen: { http: 0.0.0.0:80, https: 0.0.0.0:443 } }',
      });
    }
    const appTls = app['tls'] ?? (hasAcme ? 'acme' : false);
    if (appTls === 'acme' && !hasAcme) {
      findings.push({
        path: at('tls'),
        at: 'value',
        message: `app "${name}" asks for tls: acme, but proxy.tls.acme is not set`,
        hint: 'add proxy: { tls: { acme: { email: ops@example.com } } }, or give the app tls: { cert, key }',
      });
    }
    const wildcard = hosts.find((host) => host.startsWith('*.'));
    if (appTls === 'acme' && wildcard !== undefined) {
      findings.push({
        path: at('hosts'),
        at: 'value',
        message: `app "${name}" has the wildcard host "${wildcard}", which ACME (HTTP-01) cannot certify`,
        hint: 'give the app tls: { cert, key } with a wildcard certificate, or list its host names',
      });
    }
    if (appTls === 'acme' && !hasHttp && hasHttps) {
      findings.push({
        path: at('tls'),
        at: app['tls'] === undefined ? 'key' : 'value',
        message: `app "${name}" gets its certificate by ACME, which proves the host over HTTP (HTTP-01), but proxy.listen.http is not set`,
        hint: 'add proxy.listen.http, e.g. 0.0.0.0:80 (the CA connects to port 80), or give the app tls: { cert, key }',
      });
    }
    const uncertifiable = appTls === 'acme' ? hosts.find((host) => !host.startsWith('*.') && acmeHostProblem(host) !== undefined) : undefined;
    if (uncertifiable !== undefined) {
      findings.push({
        path: at('hosts'),
        at: 'value',
        message: `app "${name}" has the host "${uncertifiable}", which ${acmeHostProblem(uncertifiable)}`,
        hint: 'use a public DNS name, or give the app tls: { cert, key } (or tls: false)',
      });
    }
    if (appTls !== false && !hasHttps && (hasHttp || hasHttps)) {
      findings.push({
        path: at('tls'),
        at: app['tls'] === undefined ? 'key' : 'value',
        message: `app "${name}" is served over TLS, but proxy.listen.https is not set`,
        hint: 'add proxy.listen.https, e.g. 0.0.0.0:443, or give the app tls: false',
      });
    }
    if (appTls === false && !hasHttp && hasHttps) {
      findings.push({
        path: at('tls'),
        at: app['tls'] === undefined ? 'key' : 'value',
        message: `app "${name}" has tls: false, but proxy.listen.http is not set`,
        hint: 'add proxy.listen.http, e.g. 0.0.0.0:80',
      });
    }
    const source = tlsSource(appTls);
    for (const host of new Set(hosts)) {
      const first = hostTls.get(host);
      if (first === undefined) hostTls.set(host, { app: name, source });
      else if (first.app !== name && first.source !== source) {
        findings.push({
          path: at('tls'),
          at: app['tls'] === undefined ? 'key' : 'value',
          message: `apps "${first.app}" and "${name}" both serve ${host} but with different tls settings (${first.source} and ${source})`,
          hint: `a host has one certificate for all its paths: give both apps the same tls value`,
        });
      }
    }
    const paths = Array.isArray(app['paths']) ? app['paths'].filter((p): p is string => typeof p === 'string') : ['/'];
    for (const host of new Set(hosts)) {
      for (const path of new Set(paths.map(normalizePathPrefix))) {
        const key = `${host}${path === '/' ? '' : path}`;
        const other = claims.get(key);
        if (other === undefined) claims.set(key, name);
        else if (other !== name) {
          findings.push({
            path: at(app['paths'] === undefined ? 'hosts' : 'paths'),
            at: 'value',
            message: `apps "${other}" and "${name}" both claim ${host}${path === '/' ? ' (every path)' : ` path ${path}`}`,
            hint: 'give one of them other hosts, or distinct paths such as paths: [/api]',
          });
        }
      }
    }
  }
  return findings;
}

/** Why a certificate authority will not issue for `host` (a valid host pattern, not a wildcard), or undefined. */
function acmeHostProblem(host: string): string | undefined {
  const labels = host.split('.');
  if (labels.length < 2) return 'is a single label: no certificate authority issues for it';
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'ends in a number: no certificate authority issues for it';
  return undefined;
}

/** How an app's `tls` value names its certificate, for comparing apps on one host. */
function tlsSource(tls: unknown): string {
  if (tls === 'acme') return 'acme';
  if (tls === false) return 'tls: false';
  if (isRecord(tls)) return `cert ${String(tls['cert'])}, key ${String(tls['key'])}`;
  return String(tls);
}

/** `proxy.listen.http` and `.https` must differ from each other and from every app's own address. */
function checkSharedListeners(listen: Record<string, unknown>, apps: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  const http = tryListen(listen['http']);
  const https = tryListen(listen['https']);
  if (http !== undefined && https !== undefined && overlaps(http, https)) {
    findings.push({
      path: ['proxy', 'listen', 'https'],
      at: 'value',
      message: `proxy.listen.http and proxy.listen.https are both ${formatListen(https)}`,
      hint: 'give the TLS listener its own port, e.g. 0.0.0.0:443',
    });
  }
  for (const [kind, address] of [
    ['http', http],
    ['https', https],
  ] as const) {
    if (address === undefined) continue;
    for (const [name, app] of Object.entries(apps)) {
      const own = isRecord(app) ? tryListen(app['listen']) : undefined;
      if (own !== undefined && overlaps(own, address)) {
        findings.push({
          path: ['apps', name, 'listen'],
          at: 'value',
          message: `app "${name}" listens on ${formatListen(own)}, the shared ${kind} listener's port (proxy.listen.${kind} is ${formatListen(address)})`,
          hint: `give app "${name}" hosts instead, or its own port`,
        });
      }
    }
  }
  return findings;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
