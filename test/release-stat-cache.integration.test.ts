import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { excludeMatcher } from '../src/releases/exclude-matcher.js';
import type { ManifestEntry, ReleaseManifest } from '../src/releases/release-manifest.js';
import { scanTree } from '../src/releases/scan-tree.js';
import { RACY_WINDOW_NS, wallClockNs } from '../src/releases/stat-cache.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-stat-cache-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A scan that looks at the files as if they were written long ago (so their stat keys are trusted). */
const later = (): bigint => wallClockNs() + 10n * RACY_WINDOW_NS;

async function scan(root: string, previous: ReleaseManifest | null, clockNs?: () => bigint): Promise<ReleaseManifest> {
  return (await scanTree({ root, isExcluded: excludeMatcher([]), alwaysExcluded: [], previous, clockNs })).manifest;
}

function fileEntry(manifest: ReleaseManifest, relative: string): Extract<ManifestEntry, { kind: 'file' }> {
  const entry = manifest.entries.find((e) => e.path === relative);
  assert.ok(entry?.kind === 'file', `${relative} is in the manifest`);
  return entry;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The manifest with one file's hash replaced: a scan that returns this hash did not read the file. */
function withPlantedHash(manifest: ReleaseManifest, relative: string, planted: string): ReleaseManifest {
  return { entries: manifest.entries.map((e) => (e.path === relative && e.kind === 'file' ? { ...e, sha256: planted } : e)) };
}

function source(name: string): { root: string; file: string } {
  const root = path.join(scratch, name);
  fs.mkdirSync(path.join(root, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(root, 'lib', 'other.js'), 'other');
  const file = path.join(root, 'server.js');
  fs.writeFileSync(file, 'answer("aaaa")');
  return { root, file };
}

describe('release snapshots: the stat cache', () => {
  it('given an unchanged file, reuses its hash without reading it (a planted hash comes back)', async () => {
    const { root } = source('unchanged');
    const first = await scan(root, null, later);
    assert.notEqual(fileEntry(first, 'server.js').statKey, '', 'precondition: the key is trusted');
    const second = await scan(root, withPlantedHash(first, 'server.js', 'planted'), later);
    assert.equal(fileEntry(second, 'server.js').sha256, 'planted');
  });

  it('given an edit of the same size with its mtime put back, sees it (ctime) and hashes the new content', async () => {
    const { root, file } = source('same-size');
    const wholeSecond = Math.floor(Date.now() / 1000) - 3600; // utimes keeps a whole second exactly, to the ns
    fs.utimesSync(file, wholeSecond, wholeSecond);
    const before = fs.statSync(file, { bigint: true });
    const first = await scan(root, null, later);
    fs.writeFileSync(file, 'answer("bbbb")');
    fs.utimesSync(file, wholeSecond, wholeSecond);
    const after = fs.statSync(file, { bigint: true });
    assert.equal(after.size, before.size, 'precondition: same size');
    assert.equal(after.mtimeNs, before.mtimeNs, 'precondition: mtime put back, to the ns');
    assert.equal(after.ino, before.ino, 'precondition: same inode');
    const second = await scan(root, withPlantedHash(first, 'server.js', 'planted'), later);
    assert.equal(fileEntry(second, 'server.js').sha256, sha256('answer("bbbb")'));
    assert.equal(fileEntry(second, 'lib/other.js').sha256, fileEntry(first, 'lib/other.js').sha256);
  });

  it('given a file replaced by another (rename over it) with the same size and mtime, sees it (inode)', async () => {
    const { root, file } = source('replaced');
    const wholeSecond = Math.floor(Date.now() / 1000) - 3600;
    fs.utimesSync(file, wholeSecond, wholeSecond);
    const first = await scan(root, null, later);
    const replacement = path.join(scratch, 'replacement.js');
    fs.writeFileSync(replacement, 'answer("cccc")');
    fs.utimesSync(replacement, wholeSecond, wholeSecond);
    fs.renameSync(replacement, file);
    assert.equal(fs.statSync(file, { bigint: true }).mtimeNs, BigInt(wholeSecond) * 1_000_000_000n, 'precondition: same mtime');
    const second = await scan(root, withPlantedHash(first, 'server.js', 'planted'), later);
    assert.equal(fileEntry(second, 'server.js').sha256, sha256('answer("cccc")'));
  });

  it('given a file written just before the scan, trusts nothing of it next time (racy git): a rewrite in the same tick is seen', async () => {
    const { root, file } = source('racy');
    const first = await scan(root, null);
    assert.equal(fileEntry(first, 'server.js').statKey, '', 'a fresh file gets no key');
    // The worst case: rewritten at once, same size, mtime and ctime as they were (as within one timestamp tick).
    fs.writeFileSync(file, 'answer("dddd")');
    const second = await scan(root, withPlantedHash(first, 'server.js', 'planted'), later);
    assert.equal(fileEntry(second, 'server.js').sha256, sha256('answer("dddd")'));
  });

  it('keeps the content hash semantics: the same tree hashes alike with and without the cache', async () => {
    const { root } = source('same-hash');
    const cold = await scan(root, null, later);
    const warm = await scan(root, cold, later);
    assert.deepEqual(
      warm.entries.map((e) => (e.kind === 'file' ? e.sha256 : e.path)),
      cold.entries.map((e) => (e.kind === 'file' ? e.sha256 : e.path)),
    );
  });
});
