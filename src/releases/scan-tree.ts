import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { comparePaths, type ManifestEntry, type ReleaseManifest } from './release-manifest.js';
import { exactStatKey, reusableHash, statKeyFor, wallClockNs, type StatKey } from './stat-cache.js';

/** Files hashed at the same time: enough to keep the disk busy, few enough for 2 cores. */
const HASH_CONCURRENCY = 8;
const SMALL_FILE_BYTES = 1 << 20;
/** Metadata calls between two yields to the event loop. */
export const YIELD_EVERY = 256;

export interface ScanOptions {
  /** The source root; a symlink (`./current`) is resolved first. */
  root: string;
  /** True for a relative path (slash-separated) that is left out with everything under it. */
  isExcluded: (relativePath: string) => boolean;
  /** Absolute paths never taken (the data dir, when it lies inside the source). */
  alwaysExcluded: readonly string[];
  /** The manifest of the previous release from this source: a file whose stat did not change keeps its hash. */
  previous: ReleaseManifest | null;
  /** The wall clock in ns (tests move it on, to look at files as older than they are). */
  clockNs?: () => bigint;
}

/** A scanned source: its resolved root, its manifest, and each file's exact stat when it was read (for `materializeRelease`'s check). */
export interface ScannedTree {
  root: string;
  manifest: ReleaseManifest;
  sourceStats: ReadonlyMap<string, StatKey>;
}

/**
 * Reads a release source into a manifest: every directory, regular file (with its sha256) and
 * symlink (with its target, never followed), sorted by path. Other kinds (sockets, fifos, devices)
 * are not part of a release. A file whose stat (size, mtime, ctime, inode, device, mode) matches
 * the previous scan's keeps its hash without being read again, like git's index; a file changed
 * just before a scan is read again by the next one (see `statKeyFor`).
 *
 * @example const manifest = await scanTree({ root: './app', isExcluded, alwaysExcluded: [dataDir], previous: null });
 */
export async function scanTree(options: ScanOptions): Promise<ScannedTree> {
  const scanStartedNs = (options.clockNs ?? wallClockNs)();
  const root = await fs.promises.realpath(options.root);
  const skip = new Set(options.alwaysExcluded.map((p) => path.resolve(p)));
  const known = new Map<string, { statKey: string; sha256: string }>();
  for (const entry of options.previous?.entries ?? []) if (entry.kind === 'file') known.set(entry.path, entry);
  const entries: ManifestEntry[] = [];
  const toHash: Extract<ManifestEntry, { kind: 'file' }>[] = [];
  const sourceStats = new Map<string, StatKey>();

  // Metadata calls run synchronously in batches (a thread-pool round trip per file costs more than
  // the call), yielding to the event loop between batches so the controller keeps answering.
  let sinceYield = 0;
  const walk = async (relativeDir: string): Promise<void> => {
    const absoluteDir = relativeDir === '' ? root : `${root}/${relativeDir}`;
    const names = fs.readdirSync(absoluteDir).sort(comparePaths);
    for (const name of names) {
      const relative = relativeDir === '' ? name : `${relativeDir}/${name}`;
      const absolute = `${absoluteDir}/${name}`;
      if (options.isExcluded(relative) || (skip.size > 0 && skip.has(absolute))) continue;
      if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise(setImmediate);
      }
      const stat = fs.lstatSync(absolute, { bigint: true });
      const mode = Number(stat.mode & 0o777n);
      if (stat.isDirectory()) {
        entries.push({ kind: 'dir', path: relative, mode });
        await walk(relative);
      } else if (stat.isSymbolicLink()) {
        entries.push({ kind: 'symlink', path: relative, target: fs.readlinkSync(absolute) });
      } else if (stat.isFile()) {
        const statKey = statKeyFor(stat, scanStartedNs);
        sourceStats.set(relative, exactStatKey(stat));
        const sha256 = reusableHash(known.get(relative), statKey);
        const entry = { kind: 'file' as const, path: relative, mode, size: Number(stat.size), sha256: sha256 ?? '', statKey };
        entries.push(entry);
        if (sha256 === null) toHash.push(entry);
      }
    }
  };
  await walk('');

  // Only files whose stat changed (or was too fresh to trust) are read.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < toHash.length) {
      const entry = toHash[next++]!;
      entry.sha256 = await hashFile(path.join(root, entry.path), entry.size);
    }
  };
  await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
  // Depth-first order with sorted names is not byte order across levels (`a/b` vs `a-b`): sort once more.
  entries.sort((a, b) => comparePaths(a.path, b.path));
  return { root, manifest: { entries }, sourceStats };
}

/** The sha256 (hex) of a file's content. */
export async function hashFile(file: string, size = Infinity): Promise<string> {
  const hash = createHash('sha256');
  // One read for a small file; a stream for a big one, so memory stays flat.
  if (size <= SMALL_FILE_BYTES) return hash.update(await fs.promises.readFile(file)).digest('hex');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
