/** A request whose body is still arriving. */
export interface BodyWatch {
  /** Bytes of the request received so far: its connection's (HTTP/1.1), or its own stream's (HTTP/2, whose connection other requests share). */
  readonly bytesRead: () => number;
  /** `bytesRead()` when the body started. */
  readonly startBytes: number;
  readonly startedAtMs: number;
  /** Called once when the body is too slow; the request must then answer 408 or be cut. */
  onTooSlow(): void;
}

/**
 * Cuts request bodies that arrive slower than a minimum average rate (the R-U-D-Y / slow POST
 * attack), once they have been arriving for a grace period. One timer per listener sweeps the
 * bodies in progress; the guard does nothing per chunk (the rate comes from a byte count the
 * body keeps anyway: `socket.bytesRead` on HTTP/1.1), so it costs nothing on requests without a body.
 */
export class BodyRateGuard {
  private readonly watched = new Set<BodyWatch>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly minBytesPerSecond: number,
    private readonly graceMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get isEnabled(): boolean {
    return this.minBytesPerSecond > 0;
  }

  /** Starts watching a body whose bytes `bytesRead` counts; returns the watch to pass to `unwatch` once the body ended. */
  watch(bytesRead: () => number, onTooSlow: () => void): BodyWatch | undefined {
    if (!this.isEnabled) return undefined;
    const watch: BodyWatch = { bytesRead, startBytes: bytesRead(), startedAtMs: this.now(), onTooSlow };
    this.watched.add(watch);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), Math.min(1_000, Math.max(100, this.graceMs / 2)));
      this.timer.unref();
    }
    return watch;
  }

  unwatch(watch: BodyWatch | undefined): void {
    if (watch === undefined) return;
    this.watched.delete(watch);
    if (this.watched.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Checks every body in progress now (the timer calls it; tests may too). */
  sweep(): void {
    const now = this.now();
    for (const watch of this.watched) {
      const elapsedMs = now - watch.startedAtMs;
      if (elapsedMs < this.graceMs) continue;
      const received = watch.bytesRead() - watch.startBytes;
      if (received * 1000 < this.minBytesPerSecond * elapsedMs) {
        this.unwatch(watch);
        watch.onTooSlow();
      }
    }
  }
}
