import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import type { AppSpec } from '../model/app-spec.js';
import type { ReleaseRecord } from '../model/records.js';
import { excludeMatcher } from './exclude-matcher.js';
import { materializeRelease, removeRelease } from './materialize-release.js';
import { manifestBytes, releaseHash, type ReleaseManifest } from './release-manifest.js';
import { openReleaseSource, type ReleaseSourceRequest } from './release-source.js';
import { scanTree } from './scan-tree.js';

/** Temporary names in a releases folder: a release being copied, a source being unpacked. Never in use; removed at controller start. */
const PARTIAL_PREFIX = '.partial-';
const SOURCE_PREFIX = '.source-';
/** Fast compression: the manifest is written on every snapshot, and hex hashes hardly compress better at higher levels. */
const MANIFEST_GZIP_LEVEL = 1;
const gzipAsync = promisify(gzip);

/** A release taken from its source and hashed; copied to a temporary name when it differs from the latest. */
export interface StagedRelease {
  app: string;
  hash: string;
  source: string;
  sourceKind: ReleaseRecord['sourceKind'];
  commit: string | null;
  bytes: number;
  copiedBytes: number;
  /** The copy under a temporary name, or null when the hash matched the latest release (nothing copied). */
  partialDir: string | null;
}

/**
 * Releases on disk: DATA_DIR/releases/APP/<revision>-<hash>/, with a gzipped manifest beside each
 * (`<revision>-<hash>.manifest.gz`) that lets the next snapshot skip unchanged files and link them.
 * A snapshot is written under a temporary name and renamed once complete, so a crash never leaves
 * half a release under a real name.
 */
export class ReleaseSnapshots {
  /** The manifest this process wrote last, per app (by release dir): the next snapshot reuses it without reading the file back. */
  private readonly lastWritten = new Map<string, { dir: string; manifest: ReleaseManifest }>();

  constructor(private readonly dataDir: string) {}

  appDir(app: string): string {
    return path.join(this.dataDir, 'releases', app);
  }

  sharedDir(app: string): string {
    return path.join(this.dataDir, 'shared', app);
  }

  /**
   * Reads the source and hashes it; unless the hash is `latest`'s, copies it under a temporary
   * name (hard links to `latest` for unchanged files when no build will run in it).
   */
  async stage(spec: AppSpec, request: ReleaseSourceRequest | null, latest: ReleaseRecord | null): Promise<StagedRelease> {
    const release = spec.release!;
    const appDir = this.appDir(spec.name);
    await fs.promises.mkdir(appDir, { recursive: true, mode: 0o700 });
    const opened = await openReleaseSource(request ?? { kind: 'directory', path: release.from }, release.from, path.join(appDir, `${SOURCE_PREFIX}${nonce()}`));
    try {
      const previous = latest && latest.state === 'ready' ? this.manifestOf(spec.name, latest.dir) : null;
      const exclude = excludeMatcher([...release.exclude, ...release.shared.map((p) => `/${p}`)]);
      const { root, manifest, sourceStats } = await scanTree({ root: opened.root, isExcluded: exclude, alwaysExcluded: [this.dataDir], previous });
      const hash = releaseHash(manifest);
      const staged: StagedRelease = {
        app: spec.name,
        hash,
        source: opened.description,
        sourceKind: request?.kind ?? 'directory',
        commit: opened.commit,
        bytes: manifestBytes(manifest),
        copiedBytes: 0,
        partialDir: null,
      };
      if (latest?.hash === hash && latest.state === 'ready') return staged;
      const partialDir = path.join(appDir, `${PARTIAL_PREFIX}${hash.slice(0, 12)}-${nonce()}`);
      // Compressed on the thread pool while the files are linked and copied.
      const compressed = gzipAsync(JSON.stringify(manifest), { level: MANIFEST_GZIP_LEVEL });
      try {
        const result = await materializeRelease({
          sourceRoot: root,
          manifest,
          sourceStats,
          target: partialDir,
          previous: previous && latest ? { dir: latest.dir, manifest: previous } : null,
          shouldLink: release.build.length === 0,
          shared: release.shared,
          sharedDir: this.sharedDir(spec.name),
        });
        fs.writeFileSync(`${partialDir}.manifest.gz`, await compressed, { mode: 0o600 });
        this.lastWritten.set(spec.name, { dir: partialDir, manifest });
        return { ...staged, copiedBytes: result.copiedBytes, partialDir };
      } catch (error) {
        await this.discard({ ...staged, partialDir });
        throw error;
      }
    } finally {
      await opened.close();
    }
  }

  /** Gives a staged copy its real name, `<revision>-<hash>`; returns the directory. Synchronous: one rename, then the revision is stored. */
  promote(staged: StagedRelease, revision: number): string {
    const dir = path.join(this.appDir(staged.app), `${revision}-${staged.hash.slice(0, 12)}`);
    fs.renameSync(`${staged.partialDir!}.manifest.gz`, `${dir}.manifest.gz`);
    fs.renameSync(staged.partialDir!, dir);
    const written = this.lastWritten.get(staged.app);
    if (written?.dir === staged.partialDir) written.dir = dir;
    return dir;
  }

  async discard(staged: StagedRelease): Promise<void> {
    if (staged.partialDir === null) return;
    this.forget(staged.partialDir);
    await removeRelease(staged.partialDir);
    await fs.promises.rm(`${staged.partialDir}.manifest.gz`, { force: true });
  }

  /** Removes a release's files and manifest. */
  async remove(dir: string): Promise<void> {
    this.forget(dir);
    await removeRelease(dir);
    await fs.promises.rm(`${dir}.manifest.gz`, { force: true });
  }

  /**
   * At controller start: removes what a crash left in the releases folders (copies and unpacked
   * sources under temporary names, and directories no revision names), never a release in `known`.
   */
  async cleanLeftovers(known: ReadonlySet<string>): Promise<string[]> {
    const root = path.join(this.dataDir, 'releases');
    if (!fs.existsSync(root)) return [];
    const removed: string[] = [];
    for (const app of await fs.promises.readdir(root)) {
      const appDir = path.join(root, app);
      for (const name of await fs.promises.readdir(appDir)) {
        const absolute = path.join(appDir, name);
        const isLeftover = name.startsWith(PARTIAL_PREFIX) || name.startsWith(SOURCE_PREFIX) || (!name.endsWith('.manifest.gz') && !known.has(absolute));
        const isOrphanManifest = name.endsWith('.manifest.gz') && !known.has(absolute.slice(0, -'.manifest.gz'.length));
        if (!isLeftover && !isOrphanManifest) continue;
        if (name.endsWith('.manifest.gz')) await fs.promises.rm(absolute, { force: true });
        else await removeRelease(absolute);
        removed.push(absolute);
      }
    }
    return removed;
  }

  /** Disk used by an app's releases, counting a hard-linked file once. */
  async diskBytes(app: string): Promise<number> {
    const seen = new Set<bigint>();
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const absolute = path.join(dir, entry.name);
        const stat = await fs.promises.lstat(absolute, { bigint: true });
        if (seen.has(stat.ino)) continue;
        seen.add(stat.ino);
        total += Number(stat.blocks) * 512;
        if (entry.isDirectory()) await walk(absolute);
      }
    };
    await walk(this.appDir(app));
    return total;
  }

  private forget(dir: string): void {
    for (const [app, written] of this.lastWritten) if (written.dir === dir) this.lastWritten.delete(app);
  }

  private manifestOf(app: string, dir: string): ReleaseManifest | null {
    const written = this.lastWritten.get(app);
    if (written?.dir === dir) return written.manifest;
    try {
      return JSON.parse(gunzipSync(fs.readFileSync(`${dir}.manifest.gz`)).toString('utf8')) as ReleaseManifest;
    } catch {
      return null; // Without it every file is read and copied again: slower, never wrong.
    }
  }
}

function nonce(): string {
  return randomBytes(4).toString('hex');
}
