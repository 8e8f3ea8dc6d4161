import type { AddressInfo } from 'node:net';
import { CutoverError } from '../errors.js';
import type { TrafficPlan } from '../model/traffic-plan.js';
import { AppListener } from './app-listener.js';
import { AppRoute, listenKey } from './app-route.js';
import { resolveProxyOptions } from './proxy-options.js';
import type { ProxyOptions } from './proxy-options.js';
import { createRoutingTable } from './routing-table.js';
import { UpstreamRegistry } from './upstream-registry.js';

/**
 * The data plane of one worker: one HTTP listener per app, each routing to the endpoints of
 * the app's current traffic plan through keep-alive upstream pools.
 *
 * @example
 * const proxy = new ProxyServer({ closeTimeoutMs: 10_000 });
 * await proxy.applyPlan({ app: 'web', version: 1, listen: { host: '127.0.0.1', port: 8080 },
 *   groups: [{ revision: 1, weight: 100, endpoints: [{ id: 'web-1-a', host: '127.0.0.1', port: 3001 }] }] });
 * proxy.inflight(); // { 'web-1-a': 2 }
 * await proxy.close();
 */
export class ProxyServer {
  private readonly options: ProxyOptions;
  private readonly registry: UpstreamRegistry;
  private readonly apps = new Map<string, AppRoute>();
  /** Per app, the tail of its queue of plan changes (they run one at a time). */
  private readonly queues = new Map<string, Promise<void>>();
  /** Listeners left behind by a listen-address change, still draining. */
  private readonly retiring = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(options: Partial<ProxyOptions> = {}) {
    this.options = resolveProxyOptions(options);
    this.registry = new UpstreamRegistry(this.options);
  }

  /**
   * Listens on `plan.listen` if not yet (a changed listen address: opens the new one, then
   * closes the old one gracefully), then swaps the app's routing table atomically. Resolves
   * once listening and swapped. Idempotent; a plan older than the current one is ignored.
   */
  applyPlan(plan: TrafficPlan): Promise<void> {
    return this.enqueue(plan.app, () => this.apply(plan));
  }

  /** Stops listening for this app, lets in-flight requests finish, forgets its table. */
  removeApp(app: string): Promise<void> {
    return this.enqueue(app, () => this.remove(app));
  }

  /**
   * In-flight requests and open WebSocket tunnels per endpoint id, across all apps, including
   * endpoints that already left the plan. Endpoints with none are omitted.
   */
  inflight(): Record<string, number> {
    return this.registry.inflight();
  }

  /** The address an app listens on (useful when its plan asked for port 0). */
  address(app: string): AddressInfo | undefined {
    return this.apps.get(app)?.listener?.boundAddress();
  }

  /**
   * Closes every listener, lets in-flight requests finish for up to `closeTimeoutMs`, then
   * destroys what is left and the upstream pools. WebSocket tunnels are cut at once.
   */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    // Changes already queued run first (new ones are refused), then every app is removed.
    await Promise.allSettled([...this.queues.values()]);
    await Promise.allSettled([...this.apps.keys()].map((app) => this.enqueue(app, () => this.remove(app))));
    await Promise.allSettled([...this.retiring]);
    await this.registry.close();
  }

  private enqueue(app: string, change: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(app) ?? Promise.resolve();
    const next = previous.then(change, change);
    const tail = next.catch(() => undefined);
    this.queues.set(app, tail);
    void tail.then(() => {
      if (this.queues.get(app) === tail) this.queues.delete(app);
    });
    return next;
  }

  private async apply(plan: TrafficPlan): Promise<void> {
    if (this.closing !== undefined) {
      throw new CutoverError('PROXY_CLOSED', `cannot apply plan version ${plan.version} for app "${plan.app}": the proxy is closing`);
    }
    const route = this.apps.get(plan.app);
    const isSameAddress = route !== undefined && listenKey(route.listenAddress) === listenKey(plan.listen);
    if (route !== undefined && (plan.version < route.version || (plan.version === route.version && isSameAddress))) return;
    if (!isSameAddress) this.checkAddressIsFree(plan);

    const table = createRoutingTable(plan, this.registry);
    if (route === undefined) {
      const created = new AppRoute(plan.app, plan.version, table, plan.listen);
      const listener = new AppListener(created, plan.listen, this.options);
      await this.listen(listener, plan, () => table.release());
      created.listener = listener;
      this.apps.set(plan.app, created);
      return;
    }

    let retired: AppListener | undefined;
    if (!isSameAddress) {
      const listener = new AppListener(route, plan.listen, this.options);
      await this.listen(listener, plan, () => table.release());
      retired = route.listener;
      route.listener = listener;
      route.listenAddress = plan.listen;
    }
    const previous = route.table;
    route.table = table;
    route.version = plan.version;
    previous.release();
    if (retired !== undefined) this.retire(retired);
  }

  private async remove(app: string): Promise<void> {
    const route = this.apps.get(app);
    if (route === undefined) return;
    this.apps.delete(app);
    await route.listener?.close(this.options.closeTimeoutMs);
    route.table.release();
  }

  private retire(listener: AppListener): void {
    const closed = listener.close(this.options.closeTimeoutMs);
    this.retiring.add(closed);
    void closed.then(() => this.retiring.delete(closed));
  }

  private async listen(listener: AppListener, plan: TrafficPlan, undo: () => void): Promise<void> {
    try {
      await listener.listen();
    } catch (error) {
      undo();
      const { host, port } = plan.listen;
      throw new CutoverError('PROXY_LISTEN_FAILED', `app "${plan.app}" cannot listen on ${host}:${port}: ${(error as Error).message}`, {
        hint: 'Choose a free port in cutover.yaml, or stop the process that holds it.',
        cause: error,
      });
    }
  }

  private checkAddressIsFree(plan: TrafficPlan): void {
    if (plan.listen.port === 0) return;
    const key = listenKey(plan.listen);
    for (const other of this.apps.values()) {
      if (other.name !== plan.app && listenKey(other.listenAddress) === key) {
        throw new CutoverError(
          'PROXY_LISTEN_CONFLICT',
          `app "${plan.app}" cannot listen on ${plan.listen.host}:${plan.listen.port}: app "${other.name}" already does`,
          { hint: 'Give each app its own listen port.' },
        );
      }
    }
  }
}
