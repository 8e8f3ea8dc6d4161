import { processIdentity } from './process-identity.js';

/** How often adopted processes are looked at: an exit is seen within this long. */
const ADOPTED_POLL_MS = 250;

/**
 * Exits of processes this controller did not start (instances adopted after a restart): no exit
 * event comes for them, so their liveness is polled, by one timer for all of them rather than one
 * each (after a restart every instance is adopted, and separate timers wake the controller that
 * many times more often). A process is gone once its pid no longer carries the identity (start
 * time) it had when adopted, so a reused pid is not mistaken for it.
 */
export class AdoptedExits {
  private readonly watched = new Set<{ pid: number; identity: string; exited: () => void }>();
  private timer: NodeJS.Timeout | null = null;

  /** Resolves once the process `pid` with `identity` is gone. */
  exitOf(pid: number, identity: string): Promise<void> {
    return new Promise((exited) => {
      this.watched.add({ pid, identity, exited });
      this.timer ??= setInterval(() => this.look(), ADOPTED_POLL_MS);
    });
  }

  private look(): void {
    for (const entry of this.watched) {
      if (processIdentity(entry.pid) === entry.identity) continue;
      this.watched.delete(entry);
      entry.exited();
    }
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
