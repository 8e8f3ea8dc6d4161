import os from 'node:os';

/**
 * How many instances may be starting at once: a few per core. `up` of 100 apps asked for 100
 * processes at once; on 2 cores they took the CPU from the daemon itself (its controller's event
 * loop stalled for seconds, proxy answers and the admin API waited) and each spawn, which blocks
 * the controller until the child has exec'd, took ~90 ms instead of a few.
 */
export const DEFAULT_STARTING_LIMIT = Math.max(8, 4 * os.availableParallelism());
/**
 * A start holds its slot until its instance is ready or gone, but no longer than this: an app
 * that takes long to become ready is mostly waiting by then, and must not hold back the others.
 */
export const DEFAULT_STARTING_HOLD_MS = 1_000;

/**
 * Admits instance starts a few at a time. `enter` resolves when a slot is free, with the function
 * that frees it (idempotent; it also frees itself after the hold limit). Entrants are served in
 * the order they came.
 *
 * @example
 * const leave = await gate.enter();
 * spawnInstance();
 * onReadyOrGone(leave);
 */
export class StartGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** The last admission's turn of the event loop: each admission takes a turn of its own. */
  private lastTurn: Promise<void> = Promise.resolve();

  constructor(
    private readonly limit: number = DEFAULT_STARTING_LIMIT,
    private readonly holdLimitMs: number = DEFAULT_STARTING_HOLD_MS,
  ) {}

  /** Starts in progress now (slots taken). */
  get starting(): number {
    return this.active;
  }

  /** Entrants waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  async enter(): Promise<() => void> {
    let leave: () => void;
    if (this.active < this.limit) {
      this.active++;
      leave = this.slot();
    } else {
      leave = await new Promise<() => void>((resolve) => this.waiting.push(() => resolve(this.slot())));
    }
    await this.ownTurn();
    return leave;
  }

  /**
   * Resolves one turn of the event loop after the previous admission: a spawn blocks the process
   * until the child has exec'd (~100-250 ms on a loaded 2-core machine), and the event loop
   * accepts one connection per turn (libuv), so several spawns in one turn held `up`'s own
   * requests to the admin API for seconds each.
   */
  private ownTurn(): Promise<void> {
    const turn = this.lastTurn.then(() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
    this.lastTurn = turn;
    return turn;
  }

  /** A taken slot: freed once, by its holder or by the hold limit; the next entrant takes it over. */
  private slot(): () => void {
    let isFree = false;
    const leave = (): void => {
      if (isFree) return;
      isFree = true;
      clearTimeout(timer);
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
    const timer = setTimeout(leave, this.holdLimitMs);
    timer.unref();
    return leave;
  }
}
