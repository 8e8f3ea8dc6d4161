import diagnosticsChannel from 'node:diagnostics_channel';
import type { EventRecord } from '../model/records.js';

/**
 * Every event the controller stores (rollout, traffic, instance, hook and analysis changes) is
 * published here after it is written, as its `EventRecord`. The admin API's event stream
 * subscribes; nothing on the hot path waits for a subscriber.
 */
export const eventStored = diagnosticsChannel.channel('cutover:event-stored');

/** Calls `listener` with every event stored from now on; returns the unsubscribe function. */
export function onEventStored(listener: (event: EventRecord) => void): () => void {
  const handler = (message: unknown): void => listener(message as EventRecord);
  eventStored.subscribe(handler);
  return () => eventStored.unsubscribe(handler);
}
