import type { RehearsalRequest, RehearseSpec } from '../model/app-spec.js';
import type { RawRehearse } from './rehearse-schema.js';

/**
 * The `rehearse:` block resolved, apart from its schema: resolving a config (which the
 * controller does for every rollout's strategy) needs no zod.
 */
export const DEFAULT_REHEARSAL_METHOD = 'GET';
/** What a rehearsal sends when the config names no requests. */
export const DEFAULT_REHEARSAL_REQUEST: Readonly<RehearsalRequest> = { method: DEFAULT_REHEARSAL_METHOD, path: '/', body: null, headers: {} };

/** The requests of a rehearsal, defaults filled in: GET / when the config names none. */
export function resolveRehearse(raw: RawRehearse | undefined): RehearseSpec {
  const written = raw?.requests?.map((request) => ({
    method: request.method ?? DEFAULT_REHEARSAL_METHOD,
    path: request.path,
    body: request.body ?? null,
    headers: { ...request.headers },
  }));
  return { requests: written ?? [{ ...DEFAULT_REHEARSAL_REQUEST, headers: {} }] };
}
