import { createUpstreamConnector } from './upstream-connector.js';
import type { Endpoint, LongLivedDrain } from '../model/traffic-plan.js';
import type { ProxyOptions } from './proxy-options.js';
import { RequestMeter } from './request-meter.js';
import { UpstreamTarget } from './upstream-target.js';
import { LazyPool, type UpstreamPool } from './lazy-pool.js';

interface PoolEntry {
  readonly pool: UpstreamPool;
  /** Targets using this pool. */
  users: number;
}

/**
 * Owns the upstream targets and their undici pools (each made on its first request: `LazyPool`).
 * A pool is keyed by host:port and reused across plans; it is closed once no routing table names
 * any of its targets and none of them has a request in flight.
 */
export class UpstreamRegistry {
  private readonly targets = new Map<string, UpstreamTarget>();
  private readonly pools = new Map<string, PoolEntry>();
  private readonly closingPools = new Set<Promise<void>>();
  private readonly disposeTarget = (target: UpstreamTarget): void => this.dispose(target);
  /** Counts per instance; outlives the targets, so counts stay cumulative. */
  readonly meter = new RequestMeter();

  constructor(
    private readonly options: ProxyOptions,
    /** Told when a target is dropped (its other connection pools close too). */
    private readonly onDisposed: (target: UpstreamTarget) => void = () => {},
  ) {}

  /**
   * Returns the target for an endpoint of `app`'s `revision` and counts one more routing table
   * using it; `longLivedDrain` (the plan's) applies once it leaves every table.
   */
  acquire(endpoint: Endpoint, app = '', revision = 0, longLivedDrain?: LongLivedDrain, generation?: number): UpstreamTarget {
    const address = formatAddress(endpoint.host, endpoint.port);
    const key = `${endpoint.id}@${address}`;
    let target = this.targets.get(key);
    if (target === undefined) {
      target = new UpstreamTarget(
        key,
        endpoint.id,
        endpoint.host,
        endpoint.port,
        revision,
        this.acquirePool(address),
        this.disposeTarget,
        this.meter.meterOf(app, revision, endpoint.id, generation),
      );
      this.targets.set(key, target);
    }
    target.refs++;
    target.longLivedDrain = longLivedDrain;
    if (target.drainTimer !== undefined) {
      // Back in a plan before its long-lived connections had to go.
      clearTimeout(target.drainTimer);
      target.drainTimer = undefined;
    }
    target.isSayingGoodbye = false;
    return target;
  }

  /**
   * Counts one routing table less using the target. An unused idle target is dropped; one that
   * left every table with connections still open drains its long-lived ones by its policy.
   */
  release(target: UpstreamTarget): void {
    if (--target.refs > 0) return;
    if (target.inflight === 0) this.dispose(target);
    else drainLongLived(target);
  }

  /** In-flight requests and tunnels per endpoint id; endpoints with none are omitted. */
  inflight(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const target of this.targets.values()) {
      if (target.inflight > 0) counts[target.id] = (counts[target.id] ?? 0) + target.inflight;
    }
    return counts;
  }

  /** Number of open upstream pools (one per host:port still in use). */
  get poolCount(): number {
    return this.pools.size;
  }

  /** Destroys every pool, aborting whatever is still running on them. */
  async close(): Promise<void> {
    const pending = [...this.closingPools];
    for (const entry of this.pools.values()) pending.push(entry.pool.destroy().catch(ignore));
    for (const target of this.targets.values()) {
      clearTimeout(target.ejectionTimer);
      clearTimeout(target.drainTimer);
    }
    this.pools.clear();
    this.targets.clear();
    await Promise.all(pending);
  }

  private acquirePool(address: string): UpstreamPool {
    let entry = this.pools.get(address);
    if (entry === undefined) {
      const { options } = this;
      const pool = new LazyPool(`http://${address}`, {
        connections: options.upstreamMaxConnections > 0 ? options.upstreamMaxConnections : null,
        pipelining: 1,
        connect: createUpstreamConnector(options.upstreamConnectTimeoutMs),
        headersTimeout: options.upstreamHeadersTimeoutMs,
        bodyTimeout: options.upstreamBodyTimeoutMs,
        keepAliveTimeout: options.upstreamKeepAliveTimeoutMs,
        keepAliveTimeoutThreshold: options.upstreamKeepAliveThresholdMs,
        strictContentLength: true,
      });
      entry = { pool, users: 0 };
      this.pools.set(address, entry);
    }
    entry.users++;
    return entry.pool;
  }

  private dispose(target: UpstreamTarget): void {
    if (this.targets.get(target.key) !== target) return;
    clearTimeout(target.ejectionTimer);
    this.targets.delete(target.key);
    this.onDisposed(target);
    const address = formatAddress(target.host, target.port);
    const entry = this.pools.get(address);
    if (entry === undefined || entry.pool !== target.pool || --entry.users > 0) return;
    this.pools.delete(address);
    const closing = entry.pool.close().catch(ignore);
    this.closingPools.add(closing);
    void closing.then(() => this.closingPools.delete(closing));
  }
}

/** `host:port`, with IPv6 literals in brackets as URLs want them. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

function ignore(): void {}

/** The target left every plan: `close` ends its long-lived connections now, `wait` after the timeout. */
function drainLongLived(target: UpstreamTarget): void {
  const policy = target.longLivedDrain;
  if (policy === undefined) return;
  if (policy.drain === 'close' || policy.timeoutMs <= 0) {
    target.sayGoodbye();
    return;
  }
  target.drainTimer = setTimeout(() => target.sayGoodbye(), policy.timeoutMs);
  target.drainTimer.unref();
}
