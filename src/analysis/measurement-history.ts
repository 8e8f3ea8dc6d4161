import { LATENCY_BUCKETS_SECONDS, METER_COUNTERS, type EndpointMeasurement, type ProxyMeasurements } from '../proxy/request-meter.js';

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

interface Sample {
  atMs: number;
  /** Cumulative counts per instance, made monotonic across worker restarts. */
  totals: Map<string, EndpointMeasurement>;
  unrouted: Map<string, number>;
}

const REQUESTS = METER_COUNTERS.indexOf('requests');

/**
 * The proxy's counts over time, in the controller: each poll is folded into monotonic totals
 * per instance (a restarted worker's counts start again from 0: its new counts are added, none
 * lost), and kept as a sample, so any window of the last `keepMs` can be asked for.
 *
 * @example
 * history.record(now, await router.measurements());
 * history.window('web', 2, now - 10_000).requests; // requests to revision 2 over the last 10s
 */
export class MeasurementHistory {
  private readonly samples: Sample[] = [];
  /** The last raw counts per source and instance, to compute deltas. */
  private readonly lastRaw = new Map<string, Map<string, EndpointMeasurement>>();
  private readonly lastUnrouted = new Map<string, Map<string, number>>();
  private totals = new Map<string, EndpointMeasurement>();
  private unrouted = new Map<string, number>();

  constructor(private readonly keepMs = 30 * 60_000) {}

  record(atMs: number, sources: readonly SourcedMeasurements[]): void {
    const totals = new Map([...this.totals].map(([k, v]) => [k, { ...v, counts: [...v.counts], latencyBuckets: [...v.latencyBuckets] }]));
    const unrouted = new Map(this.unrouted);
    for (const source of sources) {
      const previous = this.lastRaw.get(source.source) ?? new Map<string, EndpointMeasurement>();
      const next = new Map<string, EndpointMeasurement>();
      for (const m of source.endpoints) {
        next.set(m.instance, m);
        const before = previous.get(m.instance);
        // Fewer requests than before: the worker restarted and this is all new.
        const isReset = before === undefined || (m.counts[REQUESTS] ?? 0) < (before.counts[REQUESTS] ?? 0);
        const delta = (now: number[], then: number[] | undefined): number[] => now.map((v, i) => (isReset ? v : v - (then?.[i] ?? 0)));
        const total = totals.get(m.instance) ?? { app: m.app, revision: m.revision, instance: m.instance, counts: METER_COUNTERS.map(() => 0), latencyBuckets: [...LATENCY_BUCKETS_SECONDS, Infinity].map(() => 0), latencySumSeconds: 0 };
        delta(m.counts, before?.counts).forEach((v, i) => (total.counts[i] = (total.counts[i] ?? 0) + v));
        delta(m.latencyBuckets, before?.latencyBuckets).forEach((v, i) => (total.latencyBuckets[i] = (total.latencyBuckets[i] ?? 0) + v));
        total.latencySumSeconds += isReset ? m.latencySumSeconds : m.latencySumSeconds - (before?.latencySumSeconds ?? 0);
        totals.set(m.instance, total);
      }
      this.lastRaw.set(source.source, next);
      const previousUnrouted = this.lastUnrouted.get(source.source) ?? new Map<string, number>();
      for (const [app, count] of Object.entries(source.unrouted)) {
        const before = previousUnrouted.get(app) ?? 0;
        unrouted.set(app, (unrouted.get(app) ?? 0) + (count < before ? count : count - before));
      }
      this.lastUnrouted.set(source.source, new Map(Object.entries(source.unrouted)));
    }
    this.totals = totals;
    this.unrouted = unrouted;
    this.samples.push({ atMs, totals, unrouted });
    while (this.samples.length > 2 && this.samples[0]!.atMs < atMs - this.keepMs) this.samples.shift();
  }

  /** Monotonic cumulative counts per instance since the controller started. */
  currentTotals(): EndpointMeasurement[] {
    return [...this.totals.values()];
  }

  /** Requests of each app the proxy answered 503 for want of an upstream, cumulative. */
  currentUnrouted(): Map<string, number> {
    return this.unrouted;
  }

  /** Time of the oldest sample kept, or null before the first. */
  oldestAtMs(): number | null {
    return this.samples[0]?.atMs ?? null;
  }

  /** Time of the latest sample, or null before the first. */
  latestAtMs(): number | null {
    return this.samples.at(-1)?.atMs ?? null;
  }

  /**
   * What `revision` of `app` (every revision when null) did between the last sample at or
   * before `fromMs` (the oldest one when none is that old) and the sample at or before
   * `untilMs` (default: the latest).
   */
  window(app: string, revision: number | null, fromMs: number, untilMs = Infinity): RevisionWindow {
    const end = findAtOrBefore(this.samples, untilMs) ?? this.samples.at(-1);
    const start = findAtOrBefore(this.samples, fromMs) ?? this.samples[0];
    const result: RevisionWindow = {
      windowMs: end && start ? end.atMs - start.atMs : 0,
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
    if (!end || !start || end === start) return result;
    const at = (name: (typeof METER_COUNTERS)[number]): number => METER_COUNTERS.indexOf(name);
    for (const m of end.totals.values()) {
      if (m.app !== app || (revision !== null && m.revision !== revision)) continue;
      const before = start.totals.get(m.instance);
      const d = (i: number): number => (m.counts[i] ?? 0) - (before?.counts[i] ?? 0);
      result.requests += d(at('requests'));
      result.status2xx += d(at('status2xx'));
      result.status4xx += d(at('status4xx'));
      result.appStatus5xx += d(at('appStatus5xx'));
      result.proxyStatus5xx += d(at('proxyStatus5xx'));
      result.upstreamErrors += d(at('upstreamErrors'));
      result.upstreamTimeouts += d(at('upstreamTimeouts'));
      m.latencyBuckets.forEach((v, i) => (result.latencyBuckets[i] = (result.latencyBuckets[i] ?? 0) + v - (before?.latencyBuckets[i] ?? 0)));
      result.latencySumSeconds += m.latencySumSeconds - (before?.latencySumSeconds ?? 0);
    }
    return result;
  }

  /** Requests the proxy answered 503 for want of an upstream over a window. */
  unroutedIn(app: string, fromMs: number, untilMs = Infinity): number {
    const end = findAtOrBefore(this.samples, untilMs) ?? this.samples.at(-1);
    const start = findAtOrBefore(this.samples, fromMs) ?? this.samples[0];
    if (!end || !start) return 0;
    return (end.unrouted.get(app) ?? 0) - (start.unrouted.get(app) ?? 0);
  }
}

function findAtOrBefore(samples: readonly Sample[], atMs: number): Sample | undefined {
  for (let i = samples.length - 1; i >= 0; i--) if (samples[i]!.atMs <= atMs) return samples[i];
  return undefined;
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
