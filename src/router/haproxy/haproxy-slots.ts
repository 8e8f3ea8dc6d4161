import type { TrafficPlan } from '../../model/traffic-plan.js';
import { CutoverError } from '../../errors.js';
import type { AppEntry } from './haproxy-app-entry.js';
import type { ServerLine } from './haproxy-config.js';
import { REVISION_BACKENDS, revisionBackendName } from './haproxy-layout.js';
import { routedRevisions, serverWeights } from './haproxy-plan.js';

/** A server that just left counts as busy this long, in case a request picked it just before. */
export const LEAVE_SETTLE_MS = 100;

export type SlotState = 'ready' | 'drain' | 'maint';

/** One HAProxy server, as cutover last set it. */
export interface Slot {
  backend: string;
  server: string;
  endpointId: string | null;
  host: string;
  port: number;
  weight: number;
  state: SlotState;
  /** Out of the plan, draining: freed once it has nothing in flight. */
  isLeaving: boolean;
  leftAtMs: number | null;
}

type WantedServer = { host: string; port: number; weight: number; state: SlotState };

export function freeSlot(backend: string, server: string): Slot {
  return { backend, server, endpointId: null, host: '127.0.0.1', port: 1, weight: 1, state: 'maint', isLeaving: false, leftAtMs: null };
}

/**
 * Fills the app's server slots (by backend name) for a plan: a revision backend for each revision
 * a request must reach by name, every endpoint in a slot of the weighted backend and of its
 * revision's backend, and slots whose endpoint left the plan set draining. Returns the slots of
 * the app's backends, for the caller to push.
 */
export function assignSlots(plan: TrafficPlan, entry: AppEntry, slotsByBackend: Map<string, Slot[]>, now: () => number): Slot[] {
  const backend = entry.frontend.backend;

  // Revision backends for the revisions a request must reach by name.
  const routed = routedRevisions(plan);
  for (const revision of Object.keys(entry.revisionIndex)) if (!routed.includes(Number(revision))) delete entry.revisionIndex[revision];
  for (const revision of routed) {
    if (entry.revisionIndex[revision] !== undefined) continue;
    const used = new Set(Object.values(entry.revisionIndex));
    const free = Array.from({ length: REVISION_BACKENDS }, (_, i) => i).find((i) => !used.has(i) && slotsByBackend.has(revisionBackendName(backend, i)));
    if (free === undefined)
      throw new CutoverError(
        'HAPROXY_NO_REVISION_BACKEND',
        `app "${plan.app}" needs a revision backend for revision ${revision}, but ${backend}_r0..r${REVISION_BACKENDS - 1} are all taken or missing`,
        { hint: 'Declare the revision backends (see docs/haproxy.md, External mode).' },
      );
    entry.revisionIndex[revision] = free;
  }

  const weights = serverWeights(plan);
  const wanted = new Map<string, Map<string, WantedServer>>();
  const weighted = new Map<string, WantedServer>();
  for (const group of plan.groups) {
    for (const e of group.endpoints) {
      const weight = weights.get(e.id) ?? 0;
      weighted.set(e.id, { host: e.host, port: e.port, weight, state: weight > 0 ? 'ready' : 'drain' });
    }
  }
  wanted.set(backend, weighted);
  for (let i = 0; i < REVISION_BACKENDS; i++) {
    const name = revisionBackendName(backend, i);
    if (!slotsByBackend.has(name)) continue;
    const revision = Object.entries(entry.revisionIndex).find(([, index]) => index === i)?.[0];
    const group = plan.groups.find((g) => String(g.revision) === revision);
    wanted.set(name, new Map((group?.endpoints ?? []).map((e) => [e.id, { host: e.host, port: e.port, weight: 1, state: 'ready' as const }])));
  }

  const nowMs = now();
  for (const [name, endpoints] of wanted) {
    const slots = slotsByBackend.get(name)!;
    for (const [id, want] of endpoints) {
      const slot = slots.find((s) => s.endpointId === id) ?? slots.find((s) => s.endpointId === null);
      if (!slot)
        throw new CutoverError('HAPROXY_NO_FREE_SERVER', `backend ${name} has no free server slot for ${id} (${slots.length} slots, all in use or draining)`, {
          hint: 'Raise router.haproxy.servers (managed) or the server-template count (external).',
        });
      Object.assign(slot, { endpointId: id, ...want, isLeaving: false, leftAtMs: null });
    }
    for (const slot of slots) {
      if (slot.endpointId !== null && !endpoints.has(slot.endpointId) && !slot.isLeaving)
        Object.assign(slot, { state: 'drain', isLeaving: true, leftAtMs: nowMs });
    }
  }
  return [...wanted.keys()].flatMap((name) => slotsByBackend.get(name)!);
}

/** The server lines of a managed config: a free slot is a disabled server on 127.0.0.1:1. */
export function serverLines(slotsByBackend: Map<string, Slot[]>): Map<string, ServerLine[]> {
  const servers = new Map<string, ServerLine[]>();
  for (const [name, slots] of slotsByBackend) {
    servers.set(
      name,
      slots.map((s) => ({
        name: s.server,
        host: s.endpointId === null ? '127.0.0.1' : s.host,
        port: s.endpointId === null ? 1 : s.port,
        weight: s.weight,
        state: s.endpointId === null ? 'maint' : s.state,
      })),
    );
  }
  return servers;
}
