export const RESTART_BACKOFF_BASE_MS = 250;
export const RESTART_BACKOFF_MAX_MS = 30_000;

/**
 * Exponential restart backoff per revision: a revision whose instances keep failing is
 * started less and less often (250 ms doubling up to 30 s), while another revision of the
 * same app, such as the one a rollback returns to, starts at once.
 */
export class RestartBackoff {
  private readonly byRevision = new Map<number, { failures: number; nextStartAtMs: number }>();

  recordFailure(revision: number, nowMs: number): void {
    const failures = (this.byRevision.get(revision)?.failures ?? 0) + 1;
    const delayMs = Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_BASE_MS * 2 ** (failures - 1));
    this.byRevision.set(revision, { failures, nextStartAtMs: nowMs + delayMs });
  }

  canStart(revision: number, nowMs: number): boolean {
    return nowMs >= (this.byRevision.get(revision)?.nextStartAtMs ?? 0);
  }

  /** An instance of the revision has proven itself: the next failure starts over at the base delay. */
  reset(revision: number): void {
    this.byRevision.delete(revision);
  }
}
