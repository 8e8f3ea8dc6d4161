import fs from 'node:fs';

const TAIL_BYTES = 4096;
const MAX_LINE_CHARS = 200;

/**
 * What an instance said last, from its log's last 4 KiB: the last error line (`Error: …`,
 * `TypeError: …`) if any, else the last non-empty line, shortened to 200 characters; so a
 * failure reason can say what the app said. When the log was just cut at its size cap, its
 * older part (`.1`) is read instead. Null if nothing.
 */
export function lastLogLine(logPath: string): string | null {
  return lastLineOf(logPath) ?? lastLineOf(`${logPath}.1`);
}

function lastLineOf(logPath: string): string | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(logPath, 'r');
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    const lines = buffer
      .toString('utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    // A crash report ends with a stack and a version banner: its "SomethingError: …" line says more.
    const line = lines.findLast((l) => /^[A-Za-z]*Error\b.*:/.test(l)) ?? lines.at(-1);
    if (!line) return null;
    return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
