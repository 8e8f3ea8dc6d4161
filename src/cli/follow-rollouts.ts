import { setTimeout as sleep } from 'node:timers/promises';
import type { CutoverClient } from '../api/client.js';
import { isTerminalPhase } from '../model/rollout.js';
import type { EventRecord, RolloutRecord } from '../store/store.js';
import { printEvent } from './output.js';

const POLL_MS = 150;

/**
 * Prints every event of the given rollouts as it happens and returns their final records.
 * Polls the API: simple, and survives a controller restart in the middle.
 */
export async function followRollouts(client: CutoverClient, rolloutIds: number[], options: { isQuiet?: boolean } = {}): Promise<RolloutRecord[]> {
  const finished = new Map<number, RolloutRecord>();
  const lastEventId = new Map<number, number>(rolloutIds.map((id) => [id, 0]));
  while (finished.size < rolloutIds.length) {
    for (const id of rolloutIds) {
      if (finished.has(id)) continue;
      const rollout = await client.rollout(id);
      const { events } = await client.events({ rolloutId: id, afterId: lastEventId.get(id) });
      for (const event of events) {
        if (!options.isQuiet) printEvent(event);
        lastEventId.set(id, event.id);
      }
      if (isTerminalPhase(rollout.phase)) finished.set(id, rollout);
    }
    if (finished.size < rolloutIds.length) await sleep(POLL_MS);
  }
  return rolloutIds.map((id) => finished.get(id)!);
}

export type { EventRecord };
