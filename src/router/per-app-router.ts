import { createHash } from 'node:crypto';
import path from 'node:path';
import type { AppSpec } from '../model/app-spec.js';
import type { TrafficPlan } from '../model/traffic-plan.js';
import { HaproxyRouter } from './haproxy/haproxy-router.js';
import type { FrontendHints } from './haproxy/haproxy-app-entry.js';
import type { EndpointStats, TrafficRouter } from './traffic-router.js';
import type { SourcedMeasurements } from '../model/measurements.js';

export interface PerAppRouterOptions {
  /** The built-in proxy (IPC to the proxy workers). */
  builtin: TrafficRouter;
  /** The app's latest spec: its router (none: the built-in proxy) and the rule names its strategies use. */
  specOf: (app: string) => AppSpec | undefined;
  dataDir: string;
  log?: (line: string) => void;
}

/**
 * Sends each app's plans to the router its config names: the built-in proxy, a managed HAProxy
 * (one for every app that asks for one), or an existing HAProxy (one client per socket). An app
 * keeps the router it got first for the life of the controller.
 *
 * @example
 * const router = new PerAppRouter({ builtin: new IpcRouter(), routerSpecOf: (app) => spec(app).router, dataDir });
 * await router.applyPlan(plan); // to wherever plan.app is routed
 */
export class PerAppRouter implements TrafficRouter {
  private readonly chosen = new Map<string, TrafficRouter>();
  private readonly haproxies = new Map<string, HaproxyRouter>();
  private readonly backends = new Map<string, string>();

  constructor(private readonly options: PerAppRouterOptions) {}

  applyPlan(plan: TrafficPlan): Promise<void> {
    return this.routerOf(plan.app).applyPlan(plan);
  }

  removeApp(app: string): Promise<void> {
    return this.routerOf(app).removeApp(app);
  }

  async inflight(): Promise<Record<string, number>> {
    const total: Record<string, number> = {};
    for (const router of this.routers()) {
      for (const [id, count] of Object.entries(await router.inflight())) total[id] = (total[id] ?? 0) + count;
    }
    return total;
  }

  async endpointStats(): Promise<EndpointStats[]> {
    const all: EndpointStats[] = [];
    for (const router of this.routers()) if (router.endpointStats) all.push(...(await router.endpointStats()));
    return all;
  }

  /** The built-in proxy's counts, and each HAProxy's (from its server counters). */
  async measurements(): Promise<SourcedMeasurements[]> {
    const all = [...((await this.options.builtin.measurements?.()) ?? [])];
    for (const router of this.haproxies.values()) {
      try {
        all.push(...(await router.measurements()));
      } catch (error) {
        // One unreachable HAProxy makes its own sample coarser, not everyone's.
        this.options.log?.(`haproxy: reading its counters failed: ${(error as Error).message}`);
      }
    }
    return all;
  }

  onMeasurementsMoved(listener: () => void): void {
    this.options.builtin.onMeasurementsMoved?.(listener);
  }

  /** An HAProxy's counters are read by polling; so is a built-in proxy that cannot say when its counts moved. */
  hasPolledMeasurements(): boolean {
    return this.haproxies.size > 0 || this.options.builtin.onMeasurementsMoved === undefined || this.options.builtin.hasPolledMeasurements?.() === true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.haproxies.values()].map((router) => router.close()));
  }

  private routers(): TrafficRouter[] {
    return [this.options.builtin, ...this.haproxies.values()];
  }

  private routerOf(app: string): TrafficRouter {
    const known = this.chosen.get(app);
    if (known) return known;
    const spec = this.options.specOf(app)?.router;
    let router: TrafficRouter = this.options.builtin;
    if (spec?.kind === 'haproxy') {
      this.backends.set(app, spec.backend);
      const key = spec.mode === 'managed' ? `managed:${spec.binary}:${spec.servers}` : `external:${spec.socket}`;
      let haproxy = this.haproxies.get(key);
      if (!haproxy) {
        const stateDir =
          spec.mode === 'managed'
            ? path.join(this.options.dataDir, 'haproxy')
            : path.join(
                this.options.dataDir,
                `haproxy-external-${createHash('sha256')
                  .update(spec.socket ?? '')
                  .digest('hex')
                  .slice(0, 8)}`,
              );
        haproxy = new HaproxyRouter({
          mode: spec.mode,
          socket: spec.socket ?? undefined,
          stateDir,
          serverSlots: spec.servers,
          binary: spec.binary,
          backendOf: (name) => this.backends.get(name) ?? spec.backend,
          frontendHintsOf: (name) => frontendHints(this.options.specOf(name)),
          log: this.options.log,
        });
        this.haproxies.set(key, haproxy);
      }
      router = haproxy;
    }
    this.chosen.set(app, router);
    return router;
  }
}

/** The names an app's strategies route on, from its spec. */
export function frontendHints(spec: AppSpec | undefined): FrontendHints {
  const hints: FrontendHints = { headerNames: [], cookieNames: [], stickyCookie: null, previews: [] };
  const blueGreen = spec?.strategy.blueGreen;
  const canary = spec?.strategy.canary;
  if (blueGreen?.preview.header) hints.headerNames.push(blueGreen.preview.header.name);
  if (blueGreen?.preview.listen) hints.previews.push(blueGreen.preview.listen);
  for (const route of canary?.routes ?? []) {
    if ('header' in route) hints.headerNames.push(route.header.name);
    else hints.cookieNames.push(route.cookie.name);
  }
  hints.stickyCookie = canary?.sticky?.cookie ?? null;
  return hints;
}
