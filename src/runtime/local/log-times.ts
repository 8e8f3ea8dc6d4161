import fs from 'node:fs';

/**
 * When the lines of an instance log were written. An instance writes its output straight into
 * its log file (so nothing it says depends on a cutover process staying alive), which leaves no
 * place to stamp each line; instead the controller, which looks at every log's size four times a
 * second anyway, appends a mark `<size> <ms>` beside it (`web-2-a1b2.log.times`) whenever the
 * log grew: every byte before `size` was written by `ms`. A line takes the time of the first mark
 * at or past its end, so times are exact to that tick and the log file itself stays as the app
 * wrote it.
 */
export interface TimeMark {
  offset: number;
  ms: number;
}

export interface TimedLine {
  /** Where the line starts in its file. */
  offset: number;
  text: string;
  timeMs: number;
}

export function timesPathOf(logPath: string): string {
  return `${logPath}.times`;
}

/** Records that the log held `offset` bytes at `ms`. */
export function appendTimeMark(logPath: string, mark: TimeMark): void {
  fs.appendFileSync(timesPathOf(logPath), `${mark.offset} ${mark.ms}\n`, { mode: 0o600 });
}

/** Replaces a log's marks (after a rotation). */
export function writeTimeMarks(timesPath: string, marks: readonly TimeMark[]): void {
  fs.writeFileSync(timesPath, marks.map((m) => `${m.offset} ${m.ms}\n`).join(''), { mode: 0o600 });
}

/** The marks of a log, in file order; none when it has no times file (logs written before marks existed). */
export function readTimeMarks(timesPath: string): TimeMark[] {
  let text: string;
  try {
    text = fs.readFileSync(timesPath, 'utf8');
  } catch {
    return [];
  }
  const marks: TimeMark[] = [];
  for (const line of text.split('\n')) {
    const [offset, ms] = line.split(' ').map(Number);
    if (Number.isSafeInteger(offset) && Number.isSafeInteger(ms)) marks.push({ offset: offset!, ms: ms! });
  }
  return marks;
}

/**
 * The complete lines of `logPath` from byte `start` (a last line without its newline is left for
 * later unless `includePartial`), each with its time: the first mark at or past its end, else
 * `unmarkedMs` (written since the last mark, or while no controller watched).
 */
export function readTimedLines(
  logPath: string,
  options: { start?: number; includePartial?: boolean; unmarkedMs: number; timesPath?: string },
): { lines: TimedLine[]; end: number } {
  const start = options.start ?? 0;
  let data: Buffer;
  try {
    const fd = fs.openSync(logPath, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size < start) return { lines: [], end: start };
      data = Buffer.alloc(size - start);
      const read = fs.readSync(fd, data, 0, data.length, start);
      data = data.subarray(0, read);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return { lines: [], end: start };
  }
  const marks = readTimeMarks(options.timesPath ?? timesPathOf(logPath));
  const lines: TimedLine[] = [];
  let lineStart = 0;
  let markIndex = 0;
  const timeOf = (endOffset: number): number => {
    while (markIndex < marks.length && marks[markIndex]!.offset < endOffset) markIndex++;
    return markIndex < marks.length ? marks[markIndex]!.ms : options.unmarkedMs;
  };
  while (lineStart < data.length) {
    const newline = data.indexOf(10, lineStart);
    if (newline === -1 && !options.includePartial) break;
    const lineEnd = newline === -1 ? data.length : newline;
    const text = data.subarray(lineStart, lineEnd).toString('utf8').replace(/\r$/, '');
    lines.push({ offset: start + lineStart, text, timeMs: timeOf(start + lineEnd) });
    lineStart = newline === -1 ? data.length : newline + 1;
  }
  return { lines, end: start + lineStart };
}
