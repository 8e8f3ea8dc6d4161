import { LATENCY_BUCKETS_SECONDS, METER_COUNTERS, type EndpointMeasurement } from '../../proxy/request-meter.js';
import type { ServerStatRow } from './runtime-api.js';

/** A server slot of HAProxy and the endpoint it serves now (null: free). */
export interface MeteredSlot {
  backend: string;
  server: string;
  endpointId: string | null;
}

/** The app and revision of an endpoint. */
export interface EndpointOwner {
  app: string;
  revision: number;
}

/** Keeps at most this many endpoints' counts; the oldest go first (as the built-in proxy's meters). */
const MAX_METERS = 5_000;

const at = (name: (typeof METER_COUNTERS)[number]): number => METER_COUNTERS.indexOf(name);

/**
 * The built-in measurements of an app routed by HAProxy, from its `show stat` server counters:
 * what each server counted since the previous read goes to the endpoint it served then (a slot
 * serves many endpoints over its life), summed over the weighted and revision backends. A
 * server whose counters went back (HAProxy reloaded or restarted) counts from 0 again. The
 * first read of a server is a baseline.
 *
 * Mapping: requests = `stot`; status classes = `hrsp_1xx`…`hrsp_5xx` (the app's own answers);
 * proxy-generated 5xx = `eresp` (a response that broke off or never came, answered 502/504 by
 * HAProxy); upstream errors = `econ` + `eresp`. HAProxy keeps no latency histogram per server:
 * the requests of each read go to the bucket of the server's average total time (`ttime`, over
 * its last 1024 requests), so quantiles are those of the averages per read.
 *
 * @example
 * meter.update(await api.showStat(), slots, (id) => owners.get(id));
 * meter.snapshot(); // [{ app: 'web', revision: 2, instance: 'web-2-a1b2c3', counts: [...], ... }]
 */
export class HaproxyMeter {
  private readonly lastRead = new Map<string, { row: ServerStatRow; endpointId: string | null }>();
  private readonly meters = new Map<string, EndpointMeasurement>();

  update(rows: readonly ServerStatRow[], slots: readonly MeteredSlot[], ownerOf: (endpointId: string) => EndpointOwner | undefined): void {
    const byServer = new Map(rows.map((r) => [`${r.backend}/${r.server}`, r]));
    for (const slot of slots) {
      const key = `${slot.backend}/${slot.server}`;
      const row = byServer.get(key);
      if (!row) continue;
      const last = this.lastRead.get(key);
      this.lastRead.set(key, { row, endpointId: slot.endpointId });
      if (!last) continue;
      // Requests since the last read were served by the endpoint the slot had then (a slot is freed only once drained).
      const endpointId = last.endpointId ?? slot.endpointId;
      const owner = endpointId === null ? undefined : ownerOf(endpointId);
      if (endpointId === null || !owner) continue;
      const isReset = row.total < last.row.total;
      const d = (read: (r: ServerStatRow) => number): number => Math.max(0, isReset ? read(row) : read(row) - read(last.row));
      const requests = d((r) => r.total);
      if (requests === 0 && d((r) => r.connectionErrors) === 0) continue;
      const meter = this.meterOf(endpointId, owner);
      const counts = meter.counts;
      counts[at('requests')]! += requests;
      counts[at('status1xx')]! += d((r) => r.responses1xx);
      counts[at('status2xx')]! += d((r) => r.responses2xx);
      counts[at('status3xx')]! += d((r) => r.responses3xx);
      counts[at('status4xx')]! += d((r) => r.responses4xx);
      counts[at('appStatus5xx')]! += d((r) => r.responses5xx);
      counts[at('proxyStatus5xx')]! += d((r) => r.responseErrors);
      counts[at('upstreamErrors')]! += d((r) => r.connectionErrors) + d((r) => r.responseErrors);
      const seconds = row.avgTotalTimeMs / 1000;
      let bucket = 0;
      while (bucket < LATENCY_BUCKETS_SECONDS.length && seconds > LATENCY_BUCKETS_SECONDS[bucket]!) bucket++;
      meter.latencyBuckets[bucket]! += requests;
      meter.latencySumSeconds += requests * seconds;
    }
  }

  /** Cumulative counts per endpoint since this meter started. */
  snapshot(): EndpointMeasurement[] {
    return [...this.meters.values()].map((m) => ({ ...m, counts: [...m.counts], latencyBuckets: [...m.latencyBuckets] }));
  }

  private meterOf(endpointId: string, owner: EndpointOwner): EndpointMeasurement {
    let meter = this.meters.get(endpointId);
    if (!meter) {
      meter = {
        app: owner.app,
        revision: owner.revision,
        instance: endpointId,
        counts: METER_COUNTERS.map(() => 0),
        latencyBuckets: [...LATENCY_BUCKETS_SECONDS, Infinity].map(() => 0),
        latencySumSeconds: 0,
      };
      this.meters.set(endpointId, meter);
      if (this.meters.size > MAX_METERS) this.meters.delete(this.meters.keys().next().value!);
    }
    return meter;
  }
}
