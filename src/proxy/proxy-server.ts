import type { AddressInfo } from 'node:net';
import { CutoverError } from '../errors.js';
import type { TrafficPlan } from '../model/traffic-plan.js';
import { AppListener } from './app-listener.js';
import { FastLane } from './fast-lane/fast-lane.js';
import { AppRoute, listenerKey, listenKey } from './app-route.js';
import type { ListenAddress } from './app-route.js';
import { MirrorLimits } from './mirror-copy.js';
import { resolveProxyOptions } from './proxy-options.js';
import type { ProxyOptions } from './proxy-options.js';
import { createRoutingTable } from './routing-table.js';
import { UpstreamRegistry } from './upstream-registry.js';
import type { ProxyMeasurements } from '../model/measurements.js';
import type { FrontDoor, FrontDoorOptions } from './front-door/front-door.js';
import type { ListeningSocket, ListeningSocketSource } from './listening-sockets.js';

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
  private readonly fastLane: FastLane;
  /** Bounds the mirror copies of every app on this worker together. */
  private readonly mirrorLimits: MirrorLimits;
  private readonly apps = new Map<string, AppRoute>();
  /** Per app, the tail of its queue of plan changes (they run one at a time). */
  private readonly queues = new Map<string, Promise<void>>();
  /** Listeners left behind by a listen-address change, still draining. */
  private readonly retiring = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;
  /** The shared listeners (`proxy.listen`); undefined when the config has none. */
  private frontDoor: FrontDoor | undefined = undefined;
  /** Settles once the front door is made (at once without shared listeners). */
  private readonly frontDoorLoaded: Promise<void>;
  /** Set once the proxy closes: the shared listeners' close, which the apps' removal waits for. */
  private frontDoorClosed: Promise<void> | undefined = undefined;

  /**
   * @param frontDoor the shared listeners, with their certificates; they open on `listenFrontDoor()`.
   * @param log where certificate reloads and their failures are told.
   * @param sockets listening sockets handed to this worker, used instead of binding their addresses.
   */
  constructor(
    options: Partial<ProxyOptions> = {},
    frontDoor?: FrontDoorOptions,
    log: (line: string) => void = logToStderr,
    private readonly sockets: ListeningSocketSource | undefined = undefined,
  ) {
    this.options = resolveProxyOptions(options);
    const hasSharedListener = frontDoor !== undefined && (frontDoor.http !== null || frontDoor.https !== null);
    this.fastLane = new FastLane(this.options);
    this.frontDoorLoaded = hasSharedListener ? this.loadFrontDoor(frontDoor, log) : Promise.resolve();
    this.registry = new UpstreamRegistry(this.options, (target) => this.fastLane.forget(target));
    const { mirrorMaxConcurrent, mirrorMaxBodyBytes, mirrorTimeoutMs } = this.options;
    this.mirrorLimits = new MirrorLimits(mirrorMaxConcurrent, mirrorMaxBodyBytes, mirrorTimeoutMs);
  }

  /**
   * The front door's modules (TLS, HTTP/2, certificates) load only where the config has shared
   * listeners: a worker without them does not hold them (issue 25: 1 MB of a worker at rest
   * here, 5 MB of a bare node).
   */
  private async loadFrontDoor(options: FrontDoorOptions, log: (line: string) => void): Promise<void> {
    const { FrontDoor } = await import('./front-door/front-door.js');
    this.frontDoor = new FrontDoor(this.options, options, log, this.fastLane);
  }

  /**
   * Listens on `plan.listen` and on each of `plan.previews` if not yet (a changed address:
   * opens the new one, then closes the old one gracefully; a preview moved to another
   * revision on the same address keeps its listener), then swaps the app's routing table
   * atomically. Resolves once listening and swapped. Idempotent; a plan older than the
   * current one is ignored. Rejects with PROXY_LISTEN_CONFLICT when an address is another
   * app's or listed twice, PROXY_LISTEN_FAILED when one cannot be bound, PROXY_INVALID_PLAN
   * for an unusable sticky cookie; the app then keeps its previous plan.
   */
  applyPlan(plan: TrafficPlan): Promise<void> {
    return this.enqueue(plan.app, () => this.apply(plan));
  }

  /** Stops listening for this app (previews included), lets in-flight requests finish, forgets its table. */
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

  /**
   * This worker's cumulative counts per instance since it started (instances that left the
   * plan included), and per app the requests answered 503 for want of an upstream.
   */
  measurements(): ProxyMeasurements {
    const snapshot = this.registry.meter.snapshot();
    return this.frontDoor === undefined ? snapshot : { ...snapshot, unknownHost: this.frontDoor.unknownHostRequests };
  }

  /** Changes whenever `measurements()` would answer something new (see `RequestMeter.tally`). */
  measurementsTally(): number {
    return this.registry.meter.tally() + (this.frontDoor?.unknownHostRequests ?? 0);
  }

  /**
   * Opens the shared listeners of the front door (once; nothing when there are none). A worker
   * calls it after it holds the current plans, so no request meets an empty host table.
   */
  async listenFrontDoor(): Promise<void> {
    await this.frontDoorLoaded;
    await this.frontDoor?.listen(this.sockets);
  }

  /** The address of a shared listener (useful when the config asked for port 0). */
  frontDoorAddress(kind: 'http' | 'https'): AddressInfo | undefined {
    return this.frontDoor?.address(kind);
  }

  /**
   * HTTP/2 streams on the shared HTTPS listener served from Node's raw stream API, and those left
   * to its compatibility API (anything not simple); undefined without an HTTPS listener.
   */
  frontDoorH2Streams(): { raw: number; compat: number } | undefined {
    return this.frontDoor?.h2Streams();
  }

  /** The address an app listens on (useful when its plan asked for port 0). */
  address(app: string): AddressInfo | undefined {
    return this.apps.get(app)?.listener?.boundAddress();
  }

  /**
   * The address of the app's preview listener for `revision` (the first, if the plan lists
   * several); undefined when the current plan has none.
   *
   * @example
   * await proxy.applyPlan({ ...plan, previews: [{ listen: { host: '127.0.0.1', port: 0 }, revision: 2 }] });
   * proxy.previewAddress('web', 2)?.port; // the port the preview of revision 2 got
   */
  previewAddress(app: string, revision: number): AddressInfo | undefined {
    const route = this.apps.get(app);
    if (route === undefined) return undefined;
    for (const listener of route.listeners.values()) {
      if (listener.previewRevision === revision) return listener.boundAddress();
    }
    return undefined;
  }

  /** Every listening socket of every app (previews included) and of the front door, for `cutover restart` to hand over. */
  listeningSockets(): ListeningSocket[] {
    const found: ListeningSocket[] = this.frontDoor?.listeningSockets() ?? [];
    for (const route of this.apps.values()) {
      for (const listener of route.listeners.values()) {
        const bound = listener.boundAddress();
        const handle = listener.listeningHandle();
        if (bound !== undefined && handle !== undefined && !listener.isClosing) found.push({ host: bound.address, port: bound.port, handle });
      }
    }
    return found;
  }

  /**
   * Closes every listener, lets in-flight requests finish for up to `closeTimeoutMs`, then
   * destroys what is left and the upstream pools. WebSocket tunnels are cut at once. `isGentle`
   * (a reload, other workers serve on): idle keep-alive connections are left for the clients
   * to close, so none is closed under a request being written.
   */
  close(options: { isGentle?: boolean } = {}): Promise<void> {
    this.closing ??= this.closeAll(options.isGentle === true);
    return this.closing;
  }

  private async closeAll(isGentle: boolean): Promise<void> {
    // Changes already queued run first (new ones are refused), then every app is removed.
    await Promise.allSettled([...this.queues.values(), this.frontDoorLoaded]);
    // The shared listeners close at the same time, with every app still in their host table: a
    // request on one of their connections still open (HTTP/2 streams, keep-alive HTTP/1.1) is
    // served, never answered 421/404 because its app was removed first.
    this.frontDoorClosed = this.frontDoor?.close(this.options.closeTimeoutMs, { isGentle });
    await Promise.allSettled([...this.apps.keys()].map((app) => this.enqueue(app, () => this.remove(app, isGentle))));
    await Promise.allSettled([...this.retiring]);
    await this.frontDoorClosed;
    await this.registry.close();
    this.fastLane.close();
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
    await this.frontDoorLoaded;
    if (this.closing !== undefined) {
      throw new CutoverError('PROXY_CLOSED', `cannot apply plan version ${plan.version} for app "${plan.app}": the proxy is closing`);
    }
    const route = this.apps.get(plan.app);
    const specs = listenerSpecs(plan);
    if (route !== undefined && (plan.version < route.version || (plan.version === route.version && hasListeners(route, specs)))) return;
    if (plan.frontDoor !== undefined && this.frontDoor === undefined) {
      throw new CutoverError('PROXY_INVALID_PLAN', `app "${plan.app}" has hosts, but the proxy has no shared listener`, {
        hint: 'Set proxy.listen.http and/or proxy.listen.https in cutover.yaml and restart the daemon.',
      });
    }
    const opening = specs.filter((spec) => route?.listeners.get(spec.key) === undefined);
    this.checkAddressesAreFree(plan.app, opening);

    const table = createRoutingTable(plan, this.registry, this.mirrorLimits);
    const target = route ?? new AppRoute(plan.app, plan.version, table);
    let opened: Map<string, AppListener>;
    try {
      opened = await this.open(target, opening);
    } catch (error) {
      table.release();
      throw error;
    }
    try {
      // Before the swap: a certificate file that cannot be loaded refuses the plan.
      if (plan.frontDoor !== undefined) this.frontDoor!.setApp(target, plan.frontDoor);
      else this.frontDoor?.removeApp(plan.app);
    } catch (error) {
      table.release();
      for (const listener of opened.values()) this.retire(listener);
      throw error;
    }

    // Synchronous from here on: a request sees the old table and roles or the new ones.
    const previousListeners = route?.listeners ?? new Map<string, AppListener>();
    const listeners = new Map<string, AppListener>();
    for (const spec of specs) {
      const listener = previousListeners.get(spec.key) ?? opened.get(spec.key)!;
      listener.previewRevision = spec.previewRevision;
      listeners.set(spec.key, listener);
    }
    target.listeners = listeners;
    target.listener = specs[0] === undefined ? undefined : listeners.get(specs[0].key);
    table.countUnderItsPlan();
    if (route === undefined) {
      this.apps.set(plan.app, target);
    } else {
      const previous = route.table;
      route.table = table;
      route.version = plan.version;
      previous.release();
    }
    for (const [key, listener] of previousListeners) {
      if (!listeners.has(key)) this.retire(listener);
    }
  }

  private async remove(app: string, isGentle = false): Promise<void> {
    const route = this.apps.get(app);
    if (route === undefined) return;
    this.apps.delete(app);
    if (this.frontDoorClosed === undefined) this.frontDoor?.removeApp(app);
    await Promise.all([...route.listeners.values()].map((listener) => listener.close(this.options.closeTimeoutMs, { isGentle })));
    await this.frontDoorClosed;
    route.table.release();
  }

  private retire(listener: AppListener): void {
    const closed = listener.close(this.options.closeTimeoutMs);
    this.retiring.add(closed);
    void closed.then(() => this.retiring.delete(closed));
  }

  /**
   * Opens a listener for each spec (all or none: when one fails, those opened are closed
   * again and PROXY_LISTEN_FAILED names the address that failed).
   */
  private async open(route: AppRoute, specs: readonly ListenerSpec[]): Promise<Map<string, AppListener>> {
    const listeners = specs.map((spec) => new AppListener(route, spec.address, this.options, spec.previewRevision, this.fastLane));
    const results = await Promise.allSettled(listeners.map((listener) => listener.listen(this.sockets?.take(listener.address))));
    const failed = results.findIndex((result) => result.status === 'rejected');
    if (failed === -1) return new Map(specs.map((spec, i) => [spec.key, listeners[i]!]));
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') this.retire(listeners[i]!);
    });
    const error = (results[failed] as PromiseRejectedResult).reason as Error;
    throw new CutoverError('PROXY_LISTEN_FAILED', `app "${route.name}" cannot listen on ${describeListener(specs[failed]!)}: ${error.message}`, {
      hint: 'Choose a free port in cutover.yaml, or stop the process that holds it.',
      cause: error,
    });
  }

  private checkAddressesAreFree(app: string, specs: readonly ListenerSpec[]): void {
    for (const spec of specs) {
      if (spec.address.port === 0) continue;
      const key = listenKey(spec.address);
      for (const other of this.apps.values()) {
        if (other.name === app) continue;
        for (const listener of other.listeners.values()) {
          if (listener.address.port !== 0 && listenKey(listener.address) === key) {
            throw new CutoverError('PROXY_LISTEN_CONFLICT', `app "${app}" cannot listen on ${describeListener(spec)}: app "${other.name}" already does`, {
              hint: 'Give each app, and each preview, its own listen port.',
            });
          }
        }
      }
    }
  }
}

/** One listener a plan asks for: the main one (no preview revision) or a preview. */
interface ListenerSpec {
  readonly key: string;
  readonly address: ListenAddress;
  readonly previewRevision: number | undefined;
}

/** The plan's listeners, the main one first. Throws PROXY_LISTEN_CONFLICT when two share an address. */
function listenerSpecs(plan: TrafficPlan): ListenerSpec[] {
  // An app on the shared listeners alone has no listener of its own (its listen host is empty).
  const specs: ListenerSpec[] = plan.listen.host === '' ? [] : [{ key: listenerKey(plan.listen, undefined), address: plan.listen, previewRevision: undefined }];
  for (const preview of plan.previews ?? []) {
    const spec = { key: listenerKey(preview.listen, preview.revision), address: preview.listen, previewRevision: preview.revision };
    const other = specs.find((existing) => existing.key === spec.key);
    if (other !== undefined) {
      throw new CutoverError(
        'PROXY_LISTEN_CONFLICT',
        `app "${plan.app}" cannot listen on ${describeListener(spec)}: its ${describeRole(other)} listens there already`,
        { hint: 'Give each preview its own listen port.' },
      );
    }
    specs.push(spec);
  }
  return specs;
}

/** True when the app has exactly these listeners, in these roles. */
function hasListeners(route: AppRoute, specs: readonly ListenerSpec[]): boolean {
  if (route.listeners.size !== specs.length) return false;
  return specs.every((spec) => {
    const listener = route.listeners.get(spec.key);
    return listener !== undefined && listener.previewRevision === spec.previewRevision;
  });
}

function describeListener(spec: ListenerSpec): string {
  const { host, port } = spec.address;
  return spec.previewRevision === undefined ? `${host}:${port}` : `${host}:${port} (${describeRole(spec)})`;
}

function describeRole(spec: ListenerSpec): string {
  return spec.previewRevision === undefined ? 'main listener' : `preview of revision ${spec.previewRevision}`;
}

function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}
