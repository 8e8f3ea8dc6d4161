import type { HostPort } from '../../model/app-spec.js';
import { listenKey, mapFilePath, REVISION_BACKENDS, revisionBackendName } from './haproxy-layout.js';

/** What an app's frontend must know in advance: the names its rules match on. Only grows while the app lives. */
export interface AppFrontend {
  app: string;
  backend: string;
  listen: HostPort;
  previews: HostPort[];
  headerNames: string[];
  cookieNames: string[];
  stickyCookie: string | null;
}

/** One server line as it should come back after a reload. */
export interface ServerLine {
  name: string;
  host: string;
  port: number;
  weight: number;
  /** maint: a free slot (`disabled`); drain: weight 0. */
  state: 'ready' | 'drain' | 'maint';
}

export interface ManagedConfigInput {
  statsSocket: string;
  mapsDir: string;
  apps: AppFrontend[];
  /** Server lines per backend name (weighted and revision backends). */
  servers: Map<string, ServerLine[]>;
  /** Slots per backend. */
  serverSlots: number;
}

/** Safe defaults for a managed HAProxy: bounded timeouts, retries on another server, safe connection reuse. */
export const MANAGED_DEFAULTS = [
  'mode http',
  'timeout connect 5s',
  'timeout client 60s',
  'timeout server 60s',
  'timeout http-request 10s',
  'timeout http-keep-alive 4s',
  'timeout queue 10s',
  'timeout tunnel 1h',
  'retries 3',
  'option redispatch 1',
  'retry-on conn-failure empty-response',
  'http-reuse safe',
  // On a reload the old worker answers the next request of an idle keep-alive connection with
  // "connection: close" instead of closing it under the client (HAProxy >= 2.4 closes by default).
  'option idle-close-on-response',
] as const;

/**
 * The config of a managed HAProxy: written from cutover's own template, the current servers
 * included, so a reload (by cutover or by anyone) comes back with the same weights and drains.
 * Pure: the same input gives the same text.
 */
export function renderManagedConfig(input: ManagedConfigInput): string {
  const lines: string[] = [
    '# Written by cutover. Do not edit: it is rewritten on every traffic change.',
    'global',
    `  stats socket ${input.statsSocket} mode 600 level admin expose-fd listeners`,
    '  stats timeout 30s',
    '  hard-stop-after 60s',
    '',
    'defaults',
    ...MANAGED_DEFAULTS.map((line) => `  ${line}`),
    '',
  ];
  for (const app of input.apps) lines.push(...renderApp(app, input));
  return `${lines.join('\n')}\n`;
}

function renderApp(app: AppFrontend, input: ManagedConfigInput): string[] {
  const map = (kind: Parameters<typeof mapFilePath>[2]): string => mapFilePath(input.mapsDir, app.backend, kind);
  const lines = [`# app ${app.app}`, `frontend fe_${app.backend}`, `  bind ${bindAddress(app.listen)}`];
  lines.push(...frontendRules(app, map));
  lines.push(`  default_backend ${app.backend}`, '');
  app.previews.forEach((preview, index) => {
    const key = listenKey(preview);
    const lookup = `str(${key}),map(${map('preview')})`;
    lines.push(
      `frontend fe_${app.backend}_preview${index}`,
      `  bind ${bindAddress(preview)}`,
      `  http-request return status 503 content-type text/plain string "no preview is running" unless { ${lookup} -m found }`,
      `  use_backend %[${lookup}]`,
      `  default_backend ${app.backend}`,
      '',
    );
  });
  const backends = [app.backend, ...Array.from({ length: REVISION_BACKENDS }, (_, i) => revisionBackendName(app.backend, i))];
  for (const backend of backends) {
    lines.push(`backend ${backend}`, '  balance roundrobin');
    const servers = input.servers.get(backend) ?? [];
    for (let n = 1; n <= input.serverSlots; n++) {
      const server = servers.find((s) => s.name === `s${n}`);
      lines.push(`  ${serverLine(server ?? { name: `s${n}`, host: '127.0.0.1', port: 1, weight: 1, state: 'maint' })}`);
    }
    lines.push('');
  }
  return lines;
}

/**
 * The request rules of an app's frontend, in the order the plan's rules apply: routes (header,
 * then cookie), then the sticky hash; what none claims goes to the weighted backend. Also what
 * an existing HAProxy needs in its frontend in external mode.
 */
export function frontendRules(
  app: Pick<AppFrontend, 'backend' | 'headerNames' | 'cookieNames' | 'stickyCookie'>,
  map: (kind: Parameters<typeof mapFilePath>[2]) => string,
): string[] {
  const lines: string[] = [];
  for (const name of app.headerNames) {
    const lookup = `req.fhdr(${name}),map(${map({ header: name })})`;
    lines.push(`  use_backend %[${lookup}] if { ${lookup} -m found }`);
  }
  for (const name of app.cookieNames) {
    const lookup = `req.cook(${name}),map(${map({ cookie: name })})`;
    lines.push(`  use_backend %[${lookup}] if { ${lookup} -m found }`);
  }
  if (app.stickyCookie !== null) {
    const cookie = app.stickyCookie;
    const bucket = `var(txn.co_key),xxh32,mod(100),map_int(${map('sticky')})`;
    lines.push(
      `  http-request set-var(txn.co_key) req.cook(${cookie})`,
      `  http-request set-var(txn.co_new) uuid if !{ req.cook(${cookie}) -m found }`,
      '  http-request set-var(txn.co_key) var(txn.co_new) if { var(txn.co_new) -m found }',
      `  http-response add-header Set-Cookie "${cookie}=%[var(txn.co_new)]; Path=/; Max-Age=%[str(ttl),map(${map('meta')})]; HttpOnly; SameSite=Lax" if { var(txn.co_new) -m found } { ${bucket} -m found }`,
      `  use_backend %[${bucket}] if { ${bucket} -m found }`,
    );
  }
  return lines;
}

function serverLine(server: ServerLine): string {
  const base = `server ${server.name} ${server.host}:${server.port}`;
  if (server.state === 'maint') return `${base} weight 1 disabled`;
  return `${base} weight ${server.state === 'drain' ? 0 : server.weight}`;
}

function bindAddress(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
