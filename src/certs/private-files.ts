import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Makes `dir` and its missing parents with mode 0700, and takes group and other bits off `dir` itself if it existed. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = fs.statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0) fs.chmodSync(dir, mode & 0o700);
}

/**
 * Writes `file` (mode 0600) so that a reader sees the old content or the new, never half of it:
 * a temp file beside it, flushed, then renamed over it. The proxy workers watch certificate
 * files and reload them on change; a half-written PEM would be refused or, worse, paired with
 * the wrong key.
 */
export function writePrivateFileAtomic(file: string, content: string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}
