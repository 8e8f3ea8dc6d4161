import type { Store } from '../store/store.js';
import { isStorageError } from '../store/storage-fault.js';
import { eventStored } from './event-channel.js';
import type { EventKind, EventSink } from '../model/event-kinds.js';

/**
 * Where every part of the controller says what happened: stored as an event, published on the
 * event channel, written to the daemon's log, and passed to the crash switch of the tests.
 */
export class EventLog implements EventSink {
  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
    private readonly onEventStored?: (kind: EventKind, rolloutId: number | null) => void,
  ) {}

  emit(app: string, rolloutId: number | null, kind: EventKind, message: string): void {
    const record = this.store.addEvent(app, rolloutId, kind, message);
    if (eventStored.hasSubscribers) eventStored.publish(record);
    this.log(`[${app}] ${message}`);
    this.onEventStored?.(kind, rolloutId);
  }

  /** Emits about the app's rollout in progress, if any. */
  emitForApp(app: string, kind: EventKind, message: string): void {
    this.emit(app, this.store.activeRollout(app)?.id ?? null, kind, message);
  }

  /** Emits when the disk still takes it; a full disk loses this one event, nothing else. */
  tryEmit(app: string, rolloutId: number | null, kind: EventKind, message: string): void {
    try {
      this.emit(app, rolloutId, kind, message);
    } catch (error) {
      if (!isStorageError(error)) throw error;
    }
  }
}
