import fs from 'node:fs';
import path from 'node:path';
import { CutoverError } from '../errors.js';
import type { ManifestEntry, ReleaseManifest } from './release-manifest.js';
import { YIELD_EVERY } from './scan-tree.js';
import { exactStatKey, type StatKey } from './stat-cache.js';

const COPY_CONCURRENCY = 8;

export interface MaterializeOptions {
  /** The resolved source root the manifest was read from. */
  sourceRoot: string;
  manifest: ReleaseManifest;
  /** Each source file's exact stat when the scan read it: a copy is checked against it. */
  sourceStats: ReadonlyMap<string, StatKey>;
  /** Where the release is written: a temporary name, renamed by the caller once complete. */
  target: string;
  /** The previous release of the app and its manifest: identical files are hard-linked from it. */
  previous: { dir: string; manifest: ReleaseManifest } | null;
  /** False when a build will run in the release: every file is copied (a reflink where the filesystem can), never linked. */
  shouldLink: boolean;
  /** Release-relative paths replaced by a symlink to `sharedDir/<path>`. */
  shared: readonly string[];
  /** DATA_DIR/shared/APP: what shared paths point at; seeded from the source when a path is not there yet. */
  sharedDir: string;
}

/** Bytes written anew (not linked), for `cutover releases` and the bench. */
export interface MaterializeResult {
  copiedBytes: number;
  linkedFiles: number;
}

/**
 * Writes a release from its source: directories, files and symlinks as the manifest lists them.
 * A file identical to the previous release's (same path, content hash and mode) is a hard link to
 * it, so a release where one file changed writes one file. Files are made read-only (their write
 * bits removed) before anyone runs them, so a link cannot carry a change from one release to
 * another (root ignores modes: see docs/releases.md).
 *
 * @example await materializeRelease({ sourceRoot, manifest, target: tmpDir, previous, shouldLink: true, shared: ['uploads'], sharedDir });
 */
export async function materializeRelease(options: MaterializeOptions): Promise<MaterializeResult> {
  const { manifest, target } = options;
  const previous = new Map<string, ManifestEntry>();
  for (const entry of options.previous?.manifest.entries ?? []) previous.set(entry.path, entry);
  const isShared = (relative: string): boolean => options.shared.length > 0 && options.shared.some((p) => relative === p || relative.startsWith(`${p}/`));
  await fs.promises.mkdir(target, { recursive: true, mode: 0o700 });
  const copies: Extract<ManifestEntry, { kind: 'file' }>[] = [];
  const result: MaterializeResult = { copiedBytes: 0, linkedFiles: 0 };
  // Directories, symlinks and hard links are metadata: done synchronously in batches (see scanTree), copies in parallel after.
  let sinceYield = 0;
  for (const entry of manifest.entries) {
    if (isShared(entry.path)) continue;
    if (++sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      await new Promise(setImmediate);
    }
    // Manifest paths are relative and normalised: plain concatenation, not path.join, on this hot path.
    const destination = `${target}/${entry.path}`;
    const before = previous.get(entry.path);
    // Directories stay writable by the owner until the release is sealed (a build writes in them).
    if (entry.kind === 'dir') fs.mkdirSync(destination, { mode: 0o700 });
    else if (entry.kind === 'symlink') fs.symlinkSync(entry.target, destination);
    else if (options.shouldLink && options.previous && before?.kind === 'file' && before.sha256 === entry.sha256 && before.mode === entry.mode) {
      fs.linkSync(`${options.previous.dir}/${entry.path}`, destination);
      result.linkedFiles++;
    } else copies.push(entry);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < copies.length) {
      const entry = copies[next++]!;
      const destination = path.join(target, entry.path);
      const source = path.join(options.sourceRoot, entry.path);
      await fs.promises.copyFile(source, destination, fs.constants.COPYFILE_FICLONE);
      await checkCopied(source, entry, options.sourceStats.get(entry.path));
      await fs.promises.chmod(destination, entry.mode & ~0o222);
      result.copiedBytes += entry.size;
    }
  };
  await Promise.all(Array.from({ length: COPY_CONCURRENCY }, worker));
  for (const relative of options.shared) await linkShared(options, relative);
  return result;
}

/**
 * The copy holds what was hashed: a file edited between the scan and its copy would make a
 * release whose files are not the ones its hash names. The source file must still have the exact
 * stat the scan saw (size, times to the ns, inode); what is left unseen is a rewrite of the same
 * size within one tick of the file's clock (a few ms), right after the scan read it.
 */
async function checkCopied(source: string, entry: Extract<ManifestEntry, { kind: 'file' }>, scanned: StatKey | undefined): Promise<void> {
  if (exactStatKey(await fs.promises.lstat(source, { bigint: true })) === scanned) return;
  throw new CutoverError('RELEASE_SNAPSHOT_FAILED', `${entry.path} changed while the release was being taken`, {
    hint: 'deploy again once nothing writes to the release source',
  });
}

/** A shared path is a symlink into DATA_DIR/shared/APP, seeded from the source the first time (a directory when the source has none). */
async function linkShared(options: MaterializeOptions, relative: string): Promise<void> {
  const kept = path.join(options.sharedDir, relative);
  if (!fs.existsSync(kept)) {
    await fs.promises.mkdir(path.dirname(kept), { recursive: true, mode: 0o700 });
    const source = path.join(options.sourceRoot, relative);
    if (fs.existsSync(source)) await fs.promises.cp(source, kept, { recursive: true, verbatimSymlinks: true });
    else await fs.promises.mkdir(kept, { mode: 0o700 });
  }
  const link = path.join(options.target, relative);
  await fs.promises.mkdir(path.dirname(link), { recursive: true, mode: 0o700 });
  await fs.promises.symlink(kept, link);
}

/**
 * Makes a release read-only once built: write bits off every file and directory (symlinks, and
 * so shared paths, untouched), so an instance cannot change its release, nor through a hard link
 * another one.
 */
export async function sealRelease(dir: string): Promise<void> {
  const seal = async (current: string): Promise<void> => {
    for (const entry of await fs.promises.readdir(current, { withFileTypes: true })) {
      const absolute = path.join(current, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) await seal(absolute);
      const stat = await fs.promises.lstat(absolute);
      if (stat.mode & 0o222) await fs.promises.chmod(absolute, stat.mode & 0o7555);
    }
  };
  await seal(dir);
  const stat = await fs.promises.lstat(dir);
  await fs.promises.chmod(dir, stat.mode & 0o7555);
}

/** Removes a release, sealed or half-written: directories get their owner's write bit back first. */
export async function removeRelease(dir: string): Promise<void> {
  if (!fs.existsSync(dir)) return;
  const open = async (current: string): Promise<void> => {
    await fs.promises.chmod(current, 0o700);
    for (const entry of await fs.promises.readdir(current, { withFileTypes: true })) if (entry.isDirectory()) await open(path.join(current, entry.name));
  };
  await open(dir);
  await fs.promises.rm(dir, { recursive: true, force: true });
}
