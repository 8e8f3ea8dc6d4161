import fs from 'node:fs';
import { appendTimeMark, readTimeMarks, timesPathOf, writeTimeMarks } from './log-times.js';

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** How often log sizes are checked: a flooding app overshoots the cap by what it writes in this time. */
const CHECK_INTERVAL_MS = 250;
const COPY_CHUNK_BYTES = 1024 * 1024;

/**
 * Keeps instance log files under a size cap. Instances hold the file open in append mode (so
 * their output never depends on a cutover process staying alive), so the file cannot be
 * renamed away: its last `maxBytes` are copied to `.1` and it is truncated in place, and the
 * writer's next append lands at offset 0. The copy is bounded by the cap however far past it
 * the file grew, so a flood costs the controller at most one cap's worth of copying per check.
 */
export class LogFiles {
  /** Each watched log with its size at the last time mark (see log-times.ts). */
  private readonly paths = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxBytes = DEFAULT_LOG_MAX_BYTES,
    private readonly now: () => number = Date.now,
    /** Time marks beside each log (instance logs); daemon.log stamps its own lines. */
    private readonly isTimed = true,
  ) {}

  watch(path: string): void {
    this.paths.set(path, -1);
    this.enforceCap(path);
    if (!this.timer) {
      this.timer = setInterval(() => this.enforceCaps(), CHECK_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Stops watching a log whose writer is gone, capping it one last time. */
  unwatch(path: string): void {
    if (this.paths.delete(path)) this.enforceCap(path);
  }

  enforceCaps(): void {
    for (const path of this.paths.keys()) this.enforceCap(path);
  }

  /** Marks the time of what was written since the last look, then rotates the log if it passed its cap. */
  private enforceCap(path: string): void {
    try {
      const size = fs.statSync(path).size;
      if (this.isTimed && size !== this.paths.get(path)) {
        appendTimeMark(path, { offset: size, ms: this.now() });
        if (this.paths.has(path)) this.paths.set(path, size);
      }
      if (size <= this.maxBytes) return;
      const copiedUntil = copyTail(path, `${path}.1`, size, this.maxBytes);
      fs.truncateSync(path, 0);
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
    if (this.paths.has(path)) this.paths.set(path, 0);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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
