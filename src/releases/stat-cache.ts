/**
 * When a snapshot may trust what the previous one learned of a file without reading it again,
 * as git's index does: the file's size, mtime and ctime (ns), inode, device and mode must be
 * exactly as they were when its content was hashed.
 *
 * Timestamps have a granularity (a few ms on Linux's ext4, 2 s on FAT): a file rewritten with the
 * same size within the tick in which it was hashed keeps its stat ("racy git"). So a file whose
 * mtime or ctime lies within `RACY_WINDOW_NS` of the scan's start gets no key: the next snapshot
 * reads it again. Only files changed in the last seconds before a deploy pay for that.
 */

/** The fields of `fs.lstat(…, { bigint: true })` a stat key is made of. */
export interface FileStat {
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  dev: bigint;
  mode: bigint;
}

/** Wider than any filesystem's timestamp tick (FAT's 2 s), with room for a coarse clock read. */
export const RACY_WINDOW_NS = 3_000_000_000n;

/** What a manifest records of a file it hashed; `''` when the file was too fresh to trust (never matches). */
export type StatKey = string;

/**
 * The key a manifest records for a file stat'ed during a scan that started at `scanStartedNs`
 * (wall clock, ns): `''` when its mtime or ctime is too close to (or after) that moment.
 *
 * @example statKeyFor(stat, BigInt(Date.now()) * 1_000_000n) // '4096:1733…:1733…:1234:2049:33188'
 */
export function statKeyFor(stat: FileStat, scanStartedNs: bigint): StatKey {
  const newest = stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
  if (newest >= scanStartedNs - RACY_WINDOW_NS) return '';
  return exactStatKey(stat);
}

/** A file's stat as a key, however fresh: equal keys mean the file was not touched in between. */
export function exactStatKey(stat: FileStat): StatKey {
  return `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}:${stat.dev}:${stat.mode}`;
}

/**
 * The previous content hash of a file, when it may be reused: the previous manifest recorded a
 * (trusted) key and the file's key now is the same. Null: read the file.
 *
 * @example reusableHash({ statKey: key, sha256 }, key) // sha256
 */
export function reusableHash(previous: { statKey: StatKey; sha256: string } | undefined, currentKey: StatKey): string | null {
  if (previous === undefined || previous.statKey === '' || currentKey === '') return null;
  return previous.statKey === currentKey ? previous.sha256 : null;
}

/** Now, on the wall clock that stamps files, in ns. */
export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
