import {
  addInto,
  addToWindow,
  emptyCounts,
  emptyWindow,
  type RevisionWindow,
  METER_COUNTERS,
  meterKey,
  type EndpointMeasurement,
  type MeasurementCursor,
  type RevisionCounts,
  type SampleDelta,
  type SourcedMeasurements,
} from '../model/measurements.js';

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
 * lost), and kept as a sample, so any window of the last `keepMs` can be asked for. Each poll
 * also answers what changed since the previous one (`SampleDelta`), which the controller
 * persists for deploy reports; `restore` continues from the cursors a previous controller left.
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
  /** Per source, the last `unknownHost` count read; and the sum of what was added, null until a source had a front door. */
  private readonly lastUnknownHost = new Map<string, number>();
  private unknownHost: number | null = null;

  constructor(private readonly keepMs = 30 * 60_000) {}

  /** Continues from the raw counts a previous controller read last (call before the first `record`). */
  restore(cursors: readonly MeasurementCursor[]): void {
    for (const cursor of cursors) {
      this.lastRaw.set(cursor.source, new Map(cursor.endpoints.map((m) => [meterKey(m), m])));
      this.lastUnrouted.set(cursor.source, new Map(Object.entries(cursor.unrouted ?? {})));
    }
  }

  /**
   * Folds one poll in and answers what changed since the previous one. A source first seen on
   * this controller's first poll, with no cursor, ran before it: its counts so far are a
   * baseline, not news (they are in the totals, but not in the delta).
   */
  record(atMs: number, sources: readonly SourcedMeasurements[]): SampleDelta {
    const totals = new Map([...this.totals].map(([k, v]) => [k, { ...v, counts: [...v.counts], latencyBuckets: [...v.latencyBuckets] }]));
    const unrouted = new Map(this.unrouted);
    const changes = new Map<string, RevisionCounts>();
    const unroutedChanges = new Map<string, number>();
    const cursors: MeasurementCursor[] = [];
    const isFirstPoll = this.samples.length === 0;
    for (const source of sources) {
      const isBaseline = isFirstPoll && !this.lastRaw.has(source.source);
      const previous = this.lastRaw.get(source.source) ?? new Map<string, EndpointMeasurement>();
      const next = new Map<string, EndpointMeasurement>();
      const cursor: MeasurementCursor = { source: source.source, endpoints: [], unrouted: null };
      for (const m of source.endpoints) {
        // One meter per instance and plan generation: a new generation's meter starts at 0.
        next.set(meterKey(m), m);
        const before = previous.get(meterKey(m));
        if (before === undefined || m.counts.some((v, i) => v !== before.counts[i])) cursor.endpoints.push(m);
        // Fewer requests than before: the worker restarted and this is all new.
        const isReset = before === undefined || (m.counts[REQUESTS] ?? 0) < (before.counts[REQUESTS] ?? 0);
        const delta = (now: number[], then: number[] | undefined): number[] => now.map((v, i) => (isReset ? v : v - (then?.[i] ?? 0)));
        const counts = delta(m.counts, before?.counts);
        const buckets = delta(m.latencyBuckets, before?.latencyBuckets);
        const sum = isReset ? m.latencySumSeconds : m.latencySumSeconds - (before?.latencySumSeconds ?? 0);
        const total = totals.get(m.instance) ?? { ...emptyCounts(m.app, m.revision), instance: m.instance };
        addInto(total, counts, buckets, sum);
        totals.set(m.instance, total);
        if (isBaseline || !counts.some((v) => v !== 0)) continue;
        const key = `${m.app}\u0000${m.revision}\u0000${m.generation ?? ''}`;
        const change = changes.get(key) ?? { ...emptyCounts(m.app, m.revision), ...(m.generation === undefined ? {} : { generation: m.generation }) };
        addInto(change, counts, buckets, sum);
        changes.set(key, change);
      }
      this.lastRaw.set(source.source, next);
      const previousUnrouted = this.lastUnrouted.get(source.source) ?? new Map<string, number>();
      for (const [app, count] of Object.entries(source.unrouted)) {
        const before = previousUnrouted.get(app) ?? 0;
        const added = count < before ? count : count - before;
        unrouted.set(app, (unrouted.get(app) ?? 0) + added);
        if (!isBaseline && added > 0) unroutedChanges.set(app, (unroutedChanges.get(app) ?? 0) + added);
      }
      if (Object.entries(source.unrouted).some(([app, count]) => previousUnrouted.get(app) !== count)) cursor.unrouted = source.unrouted;
      this.lastUnrouted.set(source.source, new Map(Object.entries(source.unrouted)));
      if (cursor.endpoints.length > 0 || cursor.unrouted !== null) cursors.push(cursor);
      if (source.unknownHost !== undefined) this.addUnknownHost(source.source, source.unknownHost);
    }
    this.totals = totals;
    this.unrouted = unrouted;
    this.samples.push({ atMs, totals, unrouted });
    this.trim(atMs);
    return { revisions: [...changes.values()], unrouted: unroutedChanges, cursors };
  }

  /**
   * A sample at `atMs` with the counts of the latest one: what a poll would have recorded when
   * the data plane said nothing moved since (windows keep their length without asking it).
   */
  recordUnchanged(atMs: number): void {
    this.samples.push({ atMs, totals: this.totals, unrouted: this.unrouted });
    this.trim(atMs);
  }

  /** Monotonic cumulative counts per instance since the controller started. */
  currentTotals(): EndpointMeasurement[] {
    return [...this.totals.values()];
  }

  /**
   * Requests on the front door's shared listeners for a host no app serves (404/421), summed
   * over workers since this controller started; null while no worker has a shared listener.
   */
  currentUnknownHost(): number | null {
    return this.unknownHost;
  }

  private addUnknownHost(source: string, count: number): void {
    const before = this.lastUnknownHost.get(source) ?? 0;
    // Fewer than before: the worker restarted and counts from 0 again.
    this.unknownHost = (this.unknownHost ?? 0) + (count < before ? count : count - before);
    this.lastUnknownHost.set(source, count);
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
    const result = emptyWindow(end && start ? end.atMs - start.atMs : 0);
    if (!end || !start || end === start) return result;
    for (const m of end.totals.values()) {
      if (m.app !== app || (revision !== null && m.revision !== revision)) continue;
      const before = start.totals.get(m.instance);
      addToWindow(
        result,
        m.counts.map((v, i) => v - (before?.counts[i] ?? 0)),
        m.latencyBuckets.map((v, i) => v - (before?.latencyBuckets[i] ?? 0)),
        m.latencySumSeconds - (before?.latencySumSeconds ?? 0),
      );
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

  private trim(atMs: number): void {
    while (this.samples.length > 2 && this.samples[0]!.atMs < atMs - this.keepMs) this.samples.shift();
  }
}

function findAtOrBefore(samples: readonly Sample[], atMs: number): Sample | undefined {
  for (let i = samples.length - 1; i >= 0; i--) if (samples[i]!.atMs <= atMs) return samples[i];
  return undefined;
}
