import { InputError } from '../errors.js';
import { parseDuration } from '../config/parse-duration.js';
import type { InstanceLog } from '../daemon/read-instance-logs.js';

/** `cutover logs` prints this many lines unless `-n/--tail` says otherwise. */
export const DEFAULT_LOG_TAIL = 200;
/** With no instance live (the daemon is down), the instances that stopped this close to the last stop are "the last ones that ran". */
const LAST_RUN_WINDOW_MS = 60_000;

export interface LogLine {
  timeMs: number;
  instance: string;
  revision: number;
  text: string;
}

/**
 * The instances whose logs `cutover logs` prints: the live ones (of `revision` when given);
 * with `isAll`, the ended ones whose records are kept too. When none is live (the daemon is down,
 * or the revision no longer runs), the ones that ran last, and `isFallback` says so.
 */
export function selectInstances(
  instances: readonly InstanceLog[],
  options: { revision?: number; isAll?: boolean; stableRevision?: number | null },
): { chosen: InstanceLog[]; isFallback: boolean } {
  const ofRevision = instances.filter((i) => options.revision === undefined || i.revision === options.revision);
  if (options.isAll) return { chosen: ofRevision, isFallback: false };
  const live = ofRevision.filter((i) => i.isLive);
  if (live.length > 0 || ofRevision.length === 0) return { chosen: live, isFallback: false };
  // The stable revision's, when it has any: those a rollout replaced before the stop are not "the last ones".
  const ofStable = ofRevision.filter((i) => i.revision === options.stableRevision);
  const candidates = ofStable.length > 0 ? ofStable : ofRevision;
  const lastStop = Math.max(...candidates.map((i) => i.stoppedAt ?? 0));
  return { chosen: candidates.filter((i) => (i.stoppedAt ?? 0) >= lastStop - LAST_RUN_WINDOW_MS), isFallback: true };
}

/**
 * Lines of several instances in time order; lines of one time keep their instance's own order
 * (a stable sort over instances taken one after the other). Then the last `tail` of those at or
 * after `sinceMs`.
 */
export function mergeLines(perInstance: readonly (readonly LogLine[])[], options: { tail: number; sinceMs?: number }): LogLine[] {
  const merged = perInstance.flat().filter((l) => options.sinceMs === undefined || l.timeMs >= options.sinceMs);
  merged.sort((a, b) => a.timeMs - b.timeMs);
  return options.tail === 0 ? [] : merged.slice(-options.tail);
}

/**
 * `--since`: a duration back from now (`10m`, `1h30m`) or a time (`2026-12-06T10:00:00Z`, or
 * anything `Date.parse` reads). Wrong input is exit 2.
 */
export function parseSince(text: string, nowMs: number): number {
  // A duration starts with a number and is no date (`2026-…`): a bare `10` is refused with parseDuration's hint.
  if (/^\d/.test(text) && !/^\d{4}-/.test(text)) {
    try {
      return nowMs - parseDuration(text);
    } catch (error) {
      throw new InputError('BAD_FLAG', `--since ${text}: ${(error as Error).message}`, {
        hint: 'Write a duration such as 10m, or a time such as 2026-12-06T10:00:00Z',
      });
    }
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new InputError('BAD_FLAG', `--since ${text} is neither a duration nor a time`, {
      hint: 'Write a duration such as 10m, or a time such as 2026-12-06T10:00:00Z',
    });
  return ms;
}

/** `-n/--tail`: a whole number ≥ 0. */
export function parseTail(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InputError('BAD_FLAG', `--tail must be a whole number ≥ 0, got "${text}"`);
  return n;
}
