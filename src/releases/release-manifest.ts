import { createHash } from 'node:crypto';

/** One path of a release: what its content hash covers, and how it was found in the source. */
export type ManifestEntry =
  | { kind: 'dir'; path: string; mode: number }
  | {
      kind: 'file';
      path: string;
      /** Permission bits only (0o777). */
      mode: number;
      size: number;
      sha256: string;
      /** The source file's stat when it was hashed (`statKeyFor`): the same key next time reuses the hash; `''` never does. */
      statKey: string;
    }
  | { kind: 'symlink'; path: string; target: string };

/** Every path of a release source, sorted by path (byte order), excluded paths left out. */
export interface ReleaseManifest {
  entries: ManifestEntry[];
}

/**
 * The content hash of a release: sha256 (hex) over every path, its kind, its permission bits, its
 * content's sha256 and its symlink target, in path order. Timestamps and owners are not part of
 * it, so the same files copied elsewhere hash alike.
 *
 * @example releaseHash({ entries: [{ kind: 'file', path: 'a.js', mode: 0o644, size: 1, sha256, statKey }] })
 */
export function releaseHash(manifest: ReleaseManifest): string {
  const hash = createHash('sha256');
  for (const entry of manifest.entries) {
    if (entry.kind === 'dir') hash.update(`d ${entry.mode.toString(8)} ${JSON.stringify(entry.path)}\n`);
    else if (entry.kind === 'file') hash.update(`f ${entry.mode.toString(8)} ${entry.sha256} ${JSON.stringify(entry.path)}\n`);
    else hash.update(`l ${JSON.stringify(entry.target)} ${JSON.stringify(entry.path)}\n`);
  }
  return hash.digest('hex');
}

/** The total size of a release's files, in bytes. */
export function manifestBytes(manifest: ReleaseManifest): number {
  return manifest.entries.reduce((sum, entry) => sum + (entry.kind === 'file' ? entry.size : 0), 0);
}

/** Byte order, the same on every machine and locale. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
