import fs from 'node:fs';
import { appendTimeMark, readTimeMarks, timesPathOf, writeTimeMarks } from './log-times.js';

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** How often log sizes are checked: a flooding app overshoots the cap by what it writes in this time. */
const CHECK_INTERVAL_MS = 250;
/** A log that did not grow over this many checks is watched instead (inotify): a quiet log costs no check. */
const QUIET_CHECKS_BEFORE_WATCH = 4;
const COPY_CHUNK_BYTES = 1024 * 1024;

interface LogState {
  /** Size at the last time mark (see log-times.ts); -1 before the first. */
  markedSize: number;
  /** Size at the last check, and how many checks in a row found it so. */
  seenSize: number;
  quietChecks: number;
  /** Set while the log is quiet: its first write wakes a check, and it is checked on the timer again. */
  watcher: fs.FSWatcher | null;
}

/**
 * Keeps instance log files under a size cap. Instances hold the file open in append mode (so
 * their output never depends on a cutover process staying alive), so the file cannot be
 * renamed away: its last `maxBytes` are copied to `.1` and it is truncated in place, and the
 * writer's next append lands at offset 0. The copy is bounded by the cap however far past it
 * the file grew, so a flood costs the controller at most one cap's worth of copying per check.
 * A log that writes is checked every CHECK_INTERVAL_MS; a quiet one is watched by the kernel
 * instead, and its next write brings it back to the timer (checked at once, so its time mark is
 * exact): an idle fleet's logs cost nothing.
 */
export class LogFiles {
  private readonly logs = new Map<string, LogState>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxBytes = DEFAULT_LOG_MAX_BYTES,
    private readonly now: () => number = Date.now,
    /** Time marks beside each log (instance logs); daemon.log stamps its own lines. */
    private readonly isTimed = true,
  ) {}

  watch(path: string): void {
    this.logs.set(path, { markedSize: -1, seenSize: -1, quietChecks: 0, watcher: null });
    this.enforceCap(path);
    this.startTimer();
  }

  /** Stops watching a log whose writer is gone, capping it one last time. */
  unwatch(path: string): void {
    const state = this.logs.get(path);
    if (!state) return;
    state.watcher?.close();
    this.logs.delete(path);
    this.enforceCap(path);
  }

  /** Checks every log now, quiet ones included. */
  enforceCaps(): void {
    for (const path of this.logs.keys()) this.enforceCap(path);
  }

  /** Number of logs checked on the timer (the others are quiet and watched). */
  get checkedCount(): number {
    return [...this.logs.values()].filter((state) => state.watcher === null).length;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const state of this.logs.values()) state.watcher?.close();
    for (const state of this.logs.values()) state.watcher = null;
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.checkActive(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  /** The timer's round: logs that write are checked; one quiet long enough is handed to the kernel to watch. */
  private checkActive(): void {
    for (const [path, state] of this.logs) {
      if (state.watcher !== null) continue;
      this.enforceCap(path);
      if (state.quietChecks >= QUIET_CHECKS_BEFORE_WATCH) this.watchQuiet(path, state);
    }
    if (this.checkedCount === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private watchQuiet(path: string, state: LogState): void {
    try {
      const wake = (): void => this.wake(path, state);
      state.watcher = fs.watch(path, { persistent: false }, wake);
      state.watcher.on('error', wake);
    } catch {
      // No watch to be had (the file is gone, or the kernel's limit is reached): it stays on the timer.
      state.quietChecks = 0;
    }
  }

  /** A quiet log was written to (or moved): checked now, and on the timer from now on. */
  private wake(path: string, state: LogState): void {
    if (state.watcher === null) return;
    state.watcher.close();
    state.watcher = null;
    state.quietChecks = 0;
    if (!this.logs.has(path)) return;
    this.enforceCap(path);
    this.startTimer();
  }

  /** Marks the time of what was written since the last look, then rotates the log if it passed its cap. */
  private enforceCap(path: string): void {
    const state = this.logs.get(path);
    try {
      const size = fs.statSync(path).size;
      if (state) {
        state.quietChecks = size === state.seenSize ? state.quietChecks + 1 : 0;
        state.seenSize = size;
      }
      if (this.isTimed && size !== state?.markedSize) {
        appendTimeMark(path, { offset: size, ms: this.now() });
        if (state) state.markedSize = size;
      }
      if (size <= this.maxBytes) return;
      const copiedUntil = copyTail(path, `${path}.1`, size, this.maxBytes);
      fs.truncateSync(path, 0);
      if (state) state.seenSize = 0;
      if (this.isTimed) this.rotateMarks(path, copiedUntil);
    } catch {
      // A log that vanished or cannot be read is not worth failing an instance for.
    }
  }

  /** `.1` holds the log's bytes up to `copiedUntil`, its tail: the marks follow them there, shifted; the log starts over. */
  private rotateMarks(path: string, copiedUntil: number): void {
    const kept = fs.statSync(`${path}.1`).size;
    const shift = copiedUntil - kept;
    const marks = readTimeMarks(timesPathOf(path))
      .filter((m) => m.offset > shift && m.offset <= copiedUntil)
      .map((m) => ({ offset: m.offset - shift, ms: m.ms }));
    writeTimeMarks(`${timesPathOf(path)}.1`, [...marks, { offset: kept, ms: this.now() }]);
    writeTimeMarks(timesPathOf(path), [{ offset: 0, ms: this.now() }]);
    const state = this.logs.get(path);
    if (state) state.markedSize = 0;
  }
}

/** Rounds of catching up with a writer that keeps appending while the tail is copied. */
const MAX_CATCH_UP_ROUNDS = 8;
/** Room kept in `.1` for what the writer appends during the copy (at most a quarter of the cap). */
const CATCH_UP_BYTES = 64 * 1024;

/**
 * Writes the last bytes of `from` (of `size` bytes when looked at) to `to`, replacing it, and
 * then the last of whatever the writer appended meanwhile, `to` staying within `maxBytes`:
 * copy-then-truncate loses what is written between the copy and the truncation, so that
 * window is made as short as a final `fstat` (an app's last words before it exits must not
 * fall into it).
 */
function copyTail(from: string, to: string, size: number, maxBytes: number): number {
  const source = fs.openSync(from, 'r');
  const target = fs.openSync(to, 'w', 0o600);
  try {
    const buffer = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, maxBytes));
    let room = Math.min(CATCH_UP_BYTES, Math.floor(maxBytes / 4));
    let copied = copyRange(source, target, buffer, size - Math.min(size, maxBytes - room), size);
    for (let round = 0; round < MAX_CATCH_UP_ROUNDS && room > 0; round++) {
      const grown = fs.fstatSync(source).size;
      if (grown <= copied) break;
      const start = Math.max(copied, grown - room);
      room -= grown - start;
      copied = copyRange(source, target, buffer, start, grown);
    }
    return copied;
  } finally {
    fs.closeSync(source);
    fs.closeSync(target);
  }
}

/** Appends bytes `[start, end)` of `source` to `target`; returns where it stopped. */
function copyRange(source: number, target: number, buffer: Buffer, start: number, end: number): number {
  let position = start;
  while (position < end) {
    const read = fs.readSync(source, buffer, 0, Math.min(buffer.length, end - position), position);
    if (read === 0) break;
    fs.writeSync(target, buffer, 0, read);
    position += read;
  }
  return position;
}
