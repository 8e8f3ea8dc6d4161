import type { EndpointStats } from '../traffic-router.js';
import { LEAVE_SETTLE_MS, type Slot } from './haproxy-slots.js';
import type { ServerStatRow } from './runtime-api.js';

/** Requests in flight (current and queued) per endpoint, from `show stat`; a server that left just now counts as busy. */
export function inflightCounts(rows: ServerStatRow[], slots: Slot[], nowMs: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const slot of slots) {
    if (slot.endpointId === null) continue;
    const row = rows.find((r) => r.backend === slot.backend && r.server === slot.server);
    let count = row ? row.current + row.queued : 0;
    if (slot.isLeaving && slot.leftAtMs !== null && nowMs - slot.leftAtMs < LEAVE_SETTLE_MS) count = Math.max(count, 1);
    if (count > 0) counts[slot.endpointId] = (counts[slot.endpointId] ?? 0) + count;
  }
  return counts;
}

/** Counters per endpoint from `show stat`, summed over the weighted and revision backends. */
export function serverStats(rows: ServerStatRow[], slots: Slot[]): EndpointStats[] {
  const byId = new Map<string, EndpointStats>();
  for (const slot of slots) {
    if (slot.endpointId === null) continue;
    const row = rows.find((r) => r.backend === slot.backend && r.server === slot.server);
    if (!row) continue;
    const stats = byId.get(slot.endpointId) ?? emptyStats(slot.endpointId);
    addRow(stats, row);
    byId.set(slot.endpointId, stats);
  }
  return [...byId.values()];
}

function emptyStats(endpointId: string): EndpointStats {
  return {
    endpointId,
    requests: 0,
    inflight: 0,
    responses2xx: 0,
    responses5xx: 0,
    connectionErrors: 0,
    responseErrors: 0,
    retries: 0,
    redispatches: 0,
    avgResponseTimeMs: 0,
  };
}

function addRow(stats: EndpointStats, row: ServerStatRow): void {
  const requests = stats.requests + row.total;
  // Response times are averages per server: weigh them by requests.
  stats.avgResponseTimeMs = requests === 0 ? 0 : (stats.avgResponseTimeMs * stats.requests + row.avgResponseTimeMs * row.total) / requests;
  stats.requests = requests;
  stats.inflight += row.current + row.queued;
  stats.responses2xx += row.responses2xx;
  stats.responses5xx += row.responses5xx;
  stats.connectionErrors += row.connectionErrors;
  stats.responseErrors += row.responseErrors;
  stats.retries += row.retries;
  stats.redispatches += row.redispatches;
}
