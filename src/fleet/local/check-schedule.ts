/** Checks due within this long of each other go out in the same wake. */
const SAME_WAKE_MS = 2;

/**
 * When a ready instance's next check is due: on its interval's grid (multiples of `intervalMs`
 * on the monotonic clock), between half an interval and an interval and a half from now. Every
 * instance with the same interval is then checked in the same wake, whatever time it became
 * ready; each one is still checked once per interval.
 *
 * @example
 * alignedCheckAtMs(10_230, 1_000); // 11_000
 * alignedCheckAtMs(11_004, 1_000); // 12_000: a check that ran at 11_000 (and took 4 ms)
 */
export function alignedCheckAtMs(nowMs: number, intervalMs: number): number {
  return Math.ceil((nowMs + intervalMs / 2) / intervalMs) * intervalMs;
}

/**
 * One timer for the next health check of every instance, instead of one timer each: the event
 * loop wakes once for all the checks due at the same time (each wake costs far more than the
 * check's own work when nothing else moves).
 */
export class CheckSchedule<T> {
  private readonly due = new Map<T, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerAtMs = Infinity;

  constructor(
    private readonly now: () => number,
    private readonly run: (item: T) => void,
  ) {}

  /** Runs `item` at `atMs` (monotonic), replacing any time set for it before. */
  at(item: T, atMs: number): void {
    this.due.set(item, atMs);
    if (atMs < this.timerAtMs) this.arm(atMs);
  }

  cancel(item: T): void {
    this.due.delete(item);
    if (this.due.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.timerAtMs = Infinity;
    }
  }

  /** Items waiting for their time. */
  get size(): number {
    return this.due.size;
  }

  private arm(atMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = setTimeout(() => this.fire(), Math.max(0, atMs - this.now()));
  }

  private fire(): void {
    this.timer = null;
    this.timerAtMs = Infinity;
    const latestMs = this.now() + SAME_WAKE_MS;
    const ready: T[] = [];
    let nextMs = Infinity;
    for (const [item, atMs] of this.due) {
      if (atMs <= latestMs) ready.push(item);
      else nextMs = Math.min(nextMs, atMs);
    }
    for (const item of ready) this.due.delete(item);
    if (nextMs !== Infinity) this.arm(nextMs);
    for (const item of ready) this.run(item);
  }
}
