import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { comparePaths, type ManifestEntry, type ReleaseManifest } from './release-manifest.js';

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
}

/**
 * Reads a release source into a manifest: every directory, regular file (with its sha256) and
 * symlink (with its target, never followed), sorted by path. Other kinds (sockets, fifos, devices)
 * are not part of a release. A file whose size, mtime, ctime and inode match the previous scan
 * keeps its hash without being read again, like git's index.
 *
 * @example const manifest = await scanTree({ root: './app', isExcluded, alwaysExcluded: [dataDir], previous: null });
 */
export async function scanTree(options: ScanOptions): Promise<{ root: string; manifest: ReleaseManifest }> {
  const root = await fs.promises.realpath(options.root);
  const skip = new Set(options.alwaysExcluded.map((p) => path.resolve(p)));
  const known = new Map<string, string>();
  for (const entry of options.previous?.entries ?? []) if (entry.kind === 'file') known.set(`${entry.path}\0${entry.statKey}`, entry.sha256);
  const entries: ManifestEntry[] = [];
  const files: { path: string; mode: number; size: number; statKey: string }[] = [];

  // Metadata calls run synchronously in batches (a thread-pool round trip per file costs more than
  // the call), yielding to the event loop between batches so the controller keeps answering.
  let sinceYield = 0;
  const walk = async (relativeDir: string): Promise<void> => {
    const names = fs.readdirSync(path.join(root, relativeDir)).sort(comparePaths);
    for (const name of names) {
      const relative = relativeDir === '' ? name : `${relativeDir}/${name}`;
      const absolute = path.join(root, relative);
      if (options.isExcluded(relative) || skip.has(absolute)) continue;
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
        const statKey = `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`;
        files.push({ path: relative, mode, size: Number(stat.size), statKey });
        entries.push({ kind: 'file', path: relative, mode, size: Number(stat.size), sha256: '', statKey });
      }
    }
  };
  await walk('');

  const hashes = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++]!;
      const cached = known.get(`${file.path}\0${file.statKey}`);
      hashes.set(file.path, cached ?? (await hashFile(path.join(root, file.path), file.size)));
    }
  };
  await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
  for (const entry of entries) if (entry.kind === 'file') entry.sha256 = hashes.get(entry.path)!;
  // Depth-first order with sorted names is not byte order across levels (`a/b` vs `a-b`): sort once more.
  entries.sort((a, b) => comparePaths(a.path, b.path));
  return { root, manifest: { entries } };
}

/** The sha256 (hex) of a file's content. */
export async function hashFile(file: string, size = Infinity): Promise<string> {
  const hash = createHash('sha256');
  // One read for a small file; a stream for a big one, so memory stays flat.
  if (size <= SMALL_FILE_BYTES) return hash.update(await fs.promises.readFile(file)).digest('hex');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
