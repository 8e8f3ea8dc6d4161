import { setTimeout as sleep } from 'node:timers/promises';
import type { CutoverClient, RolloutReport } from '../api/client.js';
import { DaemonUnreachableError } from '../errors.js';
import { isTerminalPhase } from '../model/rollout.js';
import type { EventRecord, RolloutRecord } from '../model/records.js';
import { printEvent } from './output.js';

const POLL_MS = 150;
/** The controller may restart in the middle of a rollout; its socket is back within seconds. */
const RECONNECT_GRACE_MS = 30_000;

export interface FollowOptions {
  isQuiet?: boolean;
  /** Aborted when waiting is pointless (`up`'s daemon exited): the follow throws the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Prints every event of the given rollouts as it happens (their hooks' too) and returns their final records.
 * Polls the API: simple, and survives a controller restart in the middle.
 */
export async function followRollouts(client: CutoverClient, rolloutIds: number[], options: FollowOptions = {}): Promise<RolloutRecord[]> {
  // Ctrl-C stops watching, not the rollout: say so, and how to look again.
  const onInterrupt = (): void => {
    console.error(`\nstopped watching; the rollout goes on in the daemon. Follow it with: cutover status`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await follow(client, rolloutIds, options);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

async function follow(client: CutoverClient, rolloutIds: number[], options: FollowOptions): Promise<RolloutRecord[]> {
  const finished = new Map<number, RolloutRecord>();
  const lastEventId = new Map<number, number>(rolloutIds.map((id) => [id, 0]));
  let unreachableSince: number | null = null;
  while (finished.size < rolloutIds.length) {
    for (const id of rolloutIds) {
      options.signal?.throwIfAborted();
      if (finished.has(id)) continue;
      let rollout: RolloutReport;
      let events: EventRecord[];
      try {
        rollout = await client.rollout(id);
        ({ events } = await client.events({ rolloutId: id, afterId: lastEventId.get(id) }));
        unreachableSince = null;
      } catch (error) {
        if (!(error instanceof DaemonUnreachableError)) throw error;
        unreachableSince ??= performance.now();
        if (performance.now() - unreachableSince > RECONNECT_GRACE_MS) throw error;
        await sleep(POLL_MS);
        continue;
      }
      for (const event of events) {
        if (!options.isQuiet) printEvent(event);
        lastEventId.set(id, event.id);
      }
      // onSuccess and onFailure hooks run after the rollout ended: their outcome is printed too.
      if (isTerminalPhase(rollout.phase) && !rollout.hasHooksDue) finished.set(id, rollout);
    }
    if (finished.size < rolloutIds.length) await sleep(POLL_MS);
  }
  return rolloutIds.map((id) => finished.get(id)!);
}
