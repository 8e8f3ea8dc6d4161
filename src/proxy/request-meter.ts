import { LATENCY_BUCKETS_SECONDS, METER_COUNTERS, meterKey, type EndpointMeasurement, type ProxyMeasurements } from '../model/measurements.js';
/**
 * Built-in measurements of the data plane: per app, revision and instance, counters and a
 * latency histogram with fixed buckets, kept in typed arrays. Recording is a few array writes:
 * no allocation, no promise, nothing that can block a request. The controller asks every
 * worker for a snapshot (`ProxyServer.measurements()`) and sums them.
 */

const REQUESTS = 0;
const STATUS_BASE = 0; // status1xx is index 1: STATUS_BASE + floor(status / 100)
const PROXY_5XX = 6;
const UPSTREAM_ERRORS = 7;
const UPSTREAM_TIMEOUTS = 8;
const EJECTIONS = 9;

/** The counters of one instance on one worker. */
export class EndpointMeter {
  readonly counts = new Float64Array(METER_COUNTERS.length);
  readonly latencyBuckets = new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1);
  latencySumSeconds = 0;

  constructor(
    readonly app: string,
    readonly revision: number,
    readonly instance: string,
    /** The plan generation whose requests this meter counts; undefined: every plan's. */
    readonly generation?: number,
  ) {}

  /** A response the app answered (any status), `seconds` after the request reached the proxy. */
  recordResponse(statusCode: number, seconds: number): void {
    const counts = this.counts;
    counts[REQUESTS]!++;
    const statusClass = Math.min(5, Math.max(1, Math.floor(statusCode / 100)));
    counts[STATUS_BASE + statusClass]!++;
    this.observe(seconds);
  }

  /** A request the proxy answered itself with `statusCode` after the upstream failed. */
  recordProxyError(statusCode: number, seconds: number): void {
    this.counts[REQUESTS]!++;
    if (statusCode >= 500) this.counts[PROXY_5XX]!++;
    else this.counts[STATUS_BASE + Math.min(5, Math.max(1, Math.floor(statusCode / 100)))]!++;
    this.observe(seconds);
  }

  /** One failed try at this upstream (the request may still be retried elsewhere). */
  recordUpstreamFailure(isTimeout: boolean): void {
    this.counts[isTimeout ? UPSTREAM_TIMEOUTS : UPSTREAM_ERRORS]!++;
  }

  /** The instance was ejected from its pool as an outlier. */
  recordEjection(): void {
    this.counts[EJECTIONS]!++;
  }

  snapshot(): EndpointMeasurement {
    return {
      app: this.app,
      revision: this.revision,
      instance: this.instance,
      ...(this.generation === undefined ? {} : { generation: this.generation }),
      counts: Array.from(this.counts),
      latencyBuckets: Array.from(this.latencyBuckets),
      latencySumSeconds: this.latencySumSeconds,
    };
  }

  private observe(seconds: number): void {
    const bounds = LATENCY_BUCKETS_SECONDS;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.latencyBuckets[i]!++;
    this.latencySumSeconds += seconds;
  }
}

/** Keeps at most this many instances' meters per worker; the oldest go first. */
const MAX_METERS = 5_000;

/**
 * The meters of one worker, one per instance and plan generation, kept after the instance leaves
 * the plan (counts stay cumulative).
 */
export class RequestMeter {
  private readonly meters = new Map<string, EndpointMeter>();
  /** Per app: requests the proxy answered 503 because no upstream was left. */
  private readonly unrouted = new Map<string, number>();

  /** The meter of an instance under a plan generation; created once, when a plan of that generation first names it. */
  meterOf(app: string, revision: number, instance: string, generation?: number): EndpointMeter {
    const key = meterKey({ instance, generation });
    let meter = this.meters.get(key);
    if (meter === undefined) {
      meter = new EndpointMeter(app, revision, instance, generation);
      this.meters.set(key, meter);
      if (this.meters.size > MAX_METERS) this.meters.delete(this.meters.keys().next().value!);
    }
    return meter;
  }

  /** A request answered 503 with no upstream to try. */
  recordUnrouted(app: string): void {
    this.unrouted.set(app, (this.unrouted.get(app) ?? 0) + 1);
  }

  /**
   * A sum that changes with every count recorded and every meter made (off the request path: a
   * loop over the meters). The same tally twice means nothing moved in between.
   */
  tally(): number {
    let sum = this.meters.size;
    for (const meter of this.meters.values()) for (const count of meter.counts) sum += count;
    for (const count of this.unrouted.values()) sum += count;
    return sum;
  }

  snapshot(): ProxyMeasurements {
    return { endpoints: [...this.meters.values()].map((m) => m.snapshot()), unrouted: Object.fromEntries(this.unrouted) };
  }
}

/** Merges several workers' snapshots: counts of the same instance (and generation) are summed. */
export function mergeMeasurements(snapshots: readonly ProxyMeasurements[]): ProxyMeasurements {
  const byInstance = new Map<string, EndpointMeasurement>();
  const unrouted: Record<string, number> = {};
  for (const snapshot of snapshots) {
    for (const [app, count] of Object.entries(snapshot.unrouted)) unrouted[app] = (unrouted[app] ?? 0) + count;
    for (const m of snapshot.endpoints) {
      const known = byInstance.get(meterKey(m));
      if (known === undefined) {
        byInstance.set(meterKey(m), { ...m, counts: [...m.counts], latencyBuckets: [...m.latencyBuckets] });
        continue;
      }
      m.counts.forEach((v, i) => (known.counts[i] = (known.counts[i] ?? 0) + v));
      m.latencyBuckets.forEach((v, i) => (known.latencyBuckets[i] = (known.latencyBuckets[i] ?? 0) + v));
      known.latencySumSeconds += m.latencySumSeconds;
    }
  }
  return { endpoints: [...byInstance.values()], unrouted };
}
