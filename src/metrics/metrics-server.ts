import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HostPort } from '../model/app-spec.js';
import { createLimitedServer } from '../api/listener-limits.js';
import { checkMetricsAccess } from './metrics-access.js';
import type { MetricsSources } from './metrics-registry.js';

/** What `/metrics` serves: a registry, or a way to make one on the first scrape. */
export type MetricsRegistrySource = Pick<Registry, 'metrics' | 'contentType'> | (() => Promise<Pick<Registry, 'metrics' | 'contentType'>>);

/**
 * The registry made on the first scrape, once: prom-client (and what it brings) loads then, not
 * with every daemon, most of which are never scraped. The controller's own default metrics (GC,
 * event-loop lag) count from that scrape on; cutover's metrics are computed at each scrape anyway.
 */
export function lazyMetricsRegistry(sources: MetricsSources): () => Promise<Registry> {
  let made: Promise<Registry> | undefined;
  return () => (made ??= import('./metrics-registry.js').then(({ createMetricsRegistry }) => createMetricsRegistry(sources)));
}

/**
 * Serves `GET /metrics` on `listen`, to requests whose Host is an address or a name of this
 * machine and, with `token`, that bear it (metrics-access.ts), with the admin listeners'
 * slow-client limits. A port that cannot be bound is logged, not fatal: the daemon's job is the
 * apps, not its own metrics.
 */
export async function startMetricsServer(
  listen: HostPort,
  registry: MetricsRegistrySource,
  log: (line: string) => void,
  token?: string,
  onUnbound?: (warning: string) => void,
): Promise<{ server: http.Server; address: AddressInfo } | null> {
  const server = createLimitedServer((req, res) => {
    const refusal = checkMetricsAccess(req, token);
    if (refusal !== undefined) {
      res
        .writeHead(refusal.status, {
          'content-type': 'text/plain',
          connection: 'close',
          ...(refusal.status === 401 ? { 'www-authenticate': 'Bearer realm="cutover metrics"' } : {}),
        })
        .end(`${refusal.message}\n`);
      return;
    }
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    const made = typeof registry === 'function' ? registry() : Promise.resolve(registry);
    made
      .then(async (r) => ({ text: await r.metrics(), contentType: r.contentType }))
      .then(
        ({ text, contentType }) => res.writeHead(200, { 'content-type': contentType }).end(text),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`),
      );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
  } catch (error) {
    const warning = `metrics: cannot listen on ${listen.host}:${listen.port} (${(error as Error).message}); /metrics is not served`;
    log(warning);
    onUnbound?.(warning);
    return null;
  }
  const address = server.address() as AddressInfo;
  log(`metrics: serving http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}/metrics`);
  return { server, address };
}
