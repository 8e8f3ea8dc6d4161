import type { Store } from '../store/store.js';
import { isStorageError, lowSpaceReason } from '../store/storage-fault.js';
import { formatMs } from '../util/format-ms.js';
import type { EventLog } from './event-log.js';

export interface StorageGuardOptions {
  store: Store;
  dataDir: string;
  events: EventLog;
  now: () => number;
  log: (line: string) => void;
  /** Writes down what changed in memory while the disk refused writes (instance records). */
  persistMemory: () => void;
  /** Called once writes go through again: every app reconciles. */
  onResumed: () => void;
}

/**
 * The disk is full (or failing): every rollout holds where it is. No instance starts or stops
 * and no plan changes until a write goes through again. Background steps run through `guard`,
 * so a failed write holds the rollouts instead of crashing the controller.
 */
export class StorageGuard {
  /** Why the state cannot be written now, and since when. */
  private current: { reason: string; sinceMs: number } | null = null;

  constructor(private readonly options: StorageGuardOptions) {}

  get fault(): { reason: string; sinceMs: number } | null {
    return this.current;
  }

  hold(reason: string): void {
    if (this.current) return;
    const { store, events } = this.options;
    this.current = { reason, sinceMs: this.options.now() };
    this.options.log(`holding every rollout: ${reason}`);
    for (const { name } of store.listApps()) {
      const active = store.activeRollout(name);
      // Recorded if the disk still takes this much; the status says it either way.
      if (active) events.tryEmit(name, active.id, 'rollout-storage-paused', `rollout ${active.id} holds: ${reason}`);
    }
  }

  /** Notices a disk about to be full before a write fails, and lifts a hold once writes succeed again (every tick). */
  check(): void {
    const low = lowSpaceReason(this.options.dataDir);
    if (low) {
      this.hold(low);
      return;
    }
    const fault = this.current;
    if (!fault) return;
    const { store, events } = this.options;
    try {
      // What the loop and the health checks changed in memory meanwhile goes down first.
      this.options.persistMemory();
      for (const { name } of store.listApps()) {
        const active = store.activeRollout(name);
        if (active)
          events.emit(
            name,
            active.id,
            'rollout-storage-resumed',
            `rollout ${active.id} goes on: the state can be written again (held ${formatMs(this.options.now() - fault.sinceMs)}: ${fault.reason})`,
          );
      }
    } catch (error) {
      if (!isStorageError(error)) throw error;
      return;
    }
    this.current = null;
    this.options.log('the state can be written again: rollouts go on');
    this.options.onResumed();
  }

  /** Runs a background step (a health check, an exit): a storage failure holds the rollouts instead of crashing. */
  guard(action: () => void | Promise<void>): void {
    void (async () => {
      try {
        await action();
      } catch (error) {
        if (isStorageError(error)) this.hold((error as Error).message);
        else this.options.log(`internal error: ${(error as Error).stack ?? String(error)}`);
      }
    })();
  }
}
