import type { HostPort } from '../../model/spec.js';
import { frontendRules, MANAGED_DEFAULTS } from './haproxy-config.js';
import { listenKey, mapFilePath, REVISION_BACKENDS, revisionBackendName, type MapKind } from './haproxy-layout.js';

export interface ExternalAppExample {
  backend: string;
  listen: HostPort;
  headerNames: string[];
  cookieNames: string[];
  stickyCookie: string | null;
  previews: HostPort[];
}

/**
 * An HAProxy config that external mode can drive: what the README shows for an existing
 * HAProxy, and what the tests run. Per app: a frontend with cutover's rules, the weighted
 * backend and its revision backends as server-template slots, and the maps the rules read
 * (the files must exist, empty, before HAProxy starts).
 */
export function renderExternalExample(input: { statsSocket: string; mapsDir: string; apps: ExternalAppExample[]; serverSlots: number }): {
  text: string;
  mapFiles: string[];
} {
  const mapFiles = new Set<string>();
  const map =
    (backend: string) =>
    (kind: MapKind): string => {
      const file = mapFilePath(input.mapsDir, backend, kind);
      mapFiles.add(file);
      return file;
    };
  const lines = ['global', `  stats socket ${input.statsSocket} mode 600 level admin`, '', 'defaults', ...MANAGED_DEFAULTS.map((l) => `  ${l}`), ''];
  for (const app of input.apps) {
    lines.push(
      `frontend fe_${app.backend}`,
      `  bind ${app.listen.host}:${app.listen.port}`,
      ...frontendRules(app, map(app.backend)),
      `  default_backend ${app.backend}`,
      '',
    );
    app.previews.forEach((preview, index) => {
      const lookup = `str(${listenKey(preview)}),map(${map(app.backend)('preview')})`;
      lines.push(
        `frontend fe_${app.backend}_preview${index}`,
        `  bind ${preview.host}:${preview.port}`,
        `  http-request return status 503 content-type text/plain string "no preview is running" unless { ${lookup} -m found }`,
        `  use_backend %[${lookup}]`,
        `  default_backend ${app.backend}`,
        '',
      );
    });
    for (const backend of [app.backend, ...Array.from({ length: REVISION_BACKENDS }, (_, i) => revisionBackendName(app.backend, i))]) {
      lines.push(`backend ${backend}`, '  balance roundrobin', `  server-template s 1-${input.serverSlots} 127.0.0.1:1 disabled`, '');
    }
  }
  return { text: `${lines.join('\n')}\n`, mapFiles: [...mapFiles] };
}
