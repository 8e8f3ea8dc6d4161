/** What the data plane counts and the control plane sums: domain types and their arithmetic, no I/O. */

/** Upper bounds of the latency histogram, in seconds; a last bucket (+Inf) follows. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The counters of one instance, in `EndpointMeter.counts` order. */
export const METER_COUNTERS = [
  'requests',
  'status1xx',
  'status2xx',
  'status3xx',
  'status4xx',
  /** 5xx answered by the app itself. */
  'appStatus5xx',
  /** 5xx the proxy generated (upstream failed or timed out, no upstream left). */
  'proxyStatus5xx',
  /** Tries that failed at the upstream (refused, reset, broken off), retried or not. */
  'upstreamErrors',
  /** Tries that timed out at the upstream. */
  'upstreamTimeouts',
  /** Times the instance was ejected from its pool as an outlier (failed too often in a row). */
  'ejections',
] as const;

export type MeterCounter = (typeof METER_COUNTERS)[number];

/** One worker's cumulative counts for one instance (since the worker started). */
export interface EndpointMeasurement {
  app: string;
  revision: number;
  instance: string;
  /** The traffic-plan generation that routed these requests; absent where the data plane does not tell (HAProxy, Kubernetes). */
  generation?: number;
  /** In `METER_COUNTERS` order. */
  counts: number[];
  /** Per bucket of `LATENCY_BUCKETS_SECONDS`, then +Inf; not cumulative. */
  latencyBuckets: number[];
  latencySumSeconds: number;
}

/** A snapshot of the data plane's counts: per instance, and per app the requests no upstream could take. */
export interface ProxyMeasurements {
  endpoints: EndpointMeasurement[];
  unrouted: Record<string, number>;
  /** Requests on the shared listeners for a host no app serves (404/421); absent without shared listeners. */
  unknownHost?: number;
}

/** One data-plane process's snapshot, named so that its restart (counts back to 0) can be told apart. */
export interface SourcedMeasurements extends ProxyMeasurements {
  source: string;
}

/** What one revision of an app did over a window. */
export interface RevisionWindow {
  windowMs: number;
  requests: number;
  status2xx: number;
  status4xx: number;
  appStatus5xx: number;
  proxyStatus5xx: number;
  upstreamErrors: number;
  upstreamTimeouts: number;
  /** Per bucket of `LATENCY_BUCKETS_SECONDS`, then +Inf; not cumulative. */
  latencyBuckets: number[];
  latencySumSeconds: number;
}

/** What one revision of an app did between two samples (or over any stretch): counts without an instance. */
export type RevisionCounts = Omit<EndpointMeasurement, 'instance'>;

/**
 * The raw counts last read from one data-plane process: kept in the store, so a restarted
 * controller counts on from them (nothing lost, nothing counted twice). In a `SampleDelta`, only
 * the instances whose counts changed, and `unrouted` only when it changed (null otherwise).
 */
export interface MeasurementCursor {
  source: string;
  endpoints: EndpointMeasurement[];
  unrouted: Record<string, number> | null;
}

/** What the data plane did since the previous sample, per revision, per app the requests it found no instance for, and the cursors that moved. */
export interface SampleDelta {
  revisions: RevisionCounts[];
  unrouted: Map<string, number>;
  cursors: MeasurementCursor[];
}

/** The key of one meter: an instance, or an instance under one plan generation. */
export function meterKey(m: Pick<EndpointMeasurement, 'instance' | 'generation'>): string {
  return m.generation === undefined ? m.instance : `${m.instance}#${m.generation}`;
}

/** A window with nothing counted yet. */
export function emptyWindow(windowMs: number): RevisionWindow {
  return {
    windowMs,
    requests: 0,
    status2xx: 0,
    status4xx: 0,
    appStatus5xx: 0,
    proxyStatus5xx: 0,
    upstreamErrors: 0,
    upstreamTimeouts: 0,
    latencyBuckets: [...LATENCY_BUCKETS_SECONDS, Infinity].map(() => 0),
    latencySumSeconds: 0,
  };
}

/** Adds counts (in `METER_COUNTERS` order) and a histogram to a window. */
export function addToWindow(window: RevisionWindow, counts: readonly number[], latencyBuckets: readonly number[], latencySumSeconds: number): void {
  const at = (name: (typeof METER_COUNTERS)[number]): number => counts[METER_COUNTERS.indexOf(name)] ?? 0;
  window.requests += at('requests');
  window.status2xx += at('status2xx');
  window.status4xx += at('status4xx');
  window.appStatus5xx += at('appStatus5xx');
  window.proxyStatus5xx += at('proxyStatus5xx');
  window.upstreamErrors += at('upstreamErrors');
  window.upstreamTimeouts += at('upstreamTimeouts');
  latencyBuckets.forEach((v, i) => (window.latencyBuckets[i] = (window.latencyBuckets[i] ?? 0) + v));
  window.latencySumSeconds += latencySumSeconds;
}

/** Zero counts of one revision. */
export function emptyCounts(app: string, revision: number): RevisionCounts {
  return { app, revision, counts: METER_COUNTERS.map(() => 0), latencyBuckets: [...LATENCY_BUCKETS_SECONDS, Infinity].map(() => 0), latencySumSeconds: 0 };
}

/** Adds counts and a histogram into `target`, in place. */
export function addInto(target: RevisionCounts, counts: readonly number[], latencyBuckets: readonly number[], latencySumSeconds: number): void {
  counts.forEach((v, i) => (target.counts[i] = (target.counts[i] ?? 0) + v));
  latencyBuckets.forEach((v, i) => (target.latencyBuckets[i] = (target.latencyBuckets[i] ?? 0) + v));
  target.latencySumSeconds += latencySumSeconds;
}

/**
 * The q-quantile (0..1) of a histogram in seconds, interpolated inside its bucket as Prometheus'
 * histogram_quantile does; null without observations. The +Inf bucket answers its lower bound.
 */
export function histogramQuantile(q: number, buckets: readonly number[]): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i] ?? 0;
    if (seen + count >= rank && count > 0) {
      const upper = LATENCY_BUCKETS_SECONDS[i];
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_SECONDS[i - 1]!;
      if (upper === undefined) return lower;
      return lower + ((upper - lower) * (rank - seen)) / count;
    }
    seen += count;
  }
  return LATENCY_BUCKETS_SECONDS.at(-1)!;
}

/** Observations above `bound` seconds (whole buckets above it; the bucket holding it counts in proportion). */
export function countAbove(bound: number, buckets: readonly number[]): number {
  let above = 0;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i] ?? 0;
    const upper = LATENCY_BUCKETS_SECONDS[i] ?? Infinity;
    const lower = i === 0 ? 0 : LATENCY_BUCKETS_SECONDS[i - 1]!;
    if (lower >= bound) above += count;
    else if (upper > bound) above += upper === Infinity ? count : (count * (upper - bound)) / (upper - lower);
  }
  return above;
}
