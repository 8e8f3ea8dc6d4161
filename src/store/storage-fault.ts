import fs from 'node:fs';
import { CutoverError } from '../errors.js';

/** Below this much free space on the data dir's disk, the controller holds rollouts instead of failing half-way. */
export const MIN_FREE_BYTES = 1024 * 1024;

const STORAGE_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT', 'SQLITE_READONLY']);

/** True for an error that says the disk (not the request) is the trouble: full, over quota, or failing I/O. */
export function isStorageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (STORAGE_CODES.has(code) || code.startsWith('SQLITE_IOERR'));
}

/** The reason the data dir cannot take writes now, in words, or null when it can (as far as free space tells). */
export function lowSpaceReason(dataDir: string): string | null {
  try {
    const stats = fs.statfsSync(dataDir);
    const free = stats.bavail * stats.bsize;
    return free < MIN_FREE_BYTES
      ? `the disk holding ${dataDir} is full (${Math.floor(free / 1024)} KiB free, cutover needs ${MIN_FREE_BYTES / 1024} KiB)`
      : null;
  } catch {
    return null;
  }
}

/** A storage failure as the API reports it. */
export function storageUnavailable(error: unknown): CutoverError {
  return new CutoverError('STORAGE_UNAVAILABLE', `the state database cannot be written: ${(error as Error).message}`, {
    hint: 'Free space on the disk of the data dir; cutover carries on by itself once it can write again.',
    cause: error,
  });
}
