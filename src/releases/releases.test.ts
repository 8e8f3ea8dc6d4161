import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { AppSpec } from '../model/app-spec.js';
import type { ReleaseRecord } from '../model/records.js';
import { excludeMatcher } from './exclude-matcher.js';
import { planPrune } from './prune-plan.js';
import { releaseHash } from './release-manifest.js';
import { ReleaseSnapshots } from './release-snapshots.js';
import { scanTree } from './scan-tree.js';
import { sealRelease } from './materialize-release.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-releases-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const root = path.join(scratch, name);
  for (const [relative, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    fs.writeFileSync(path.join(root, relative), content);
  }
  return root;
}

async function hashOf(root: string, exclude: string[] = [], alwaysExcluded: string[] = []): Promise<string> {
  return releaseHash((await scanTree({ root, isExcluded: excludeMatcher(exclude), alwaysExcluded, previous: null })).manifest);
}

function appSpec(from: string, release: Partial<NonNullable<AppSpec['release']>> = {}): AppSpec {
  return { name: 'web', release: { from, exclude: [], build: [], shared: [], keep: 5, ...release } } as unknown as AppSpec;
}

describe('excludeMatcher', () => {
  it('matches names at any depth, globs within a name, and rooted paths', () => {
    const isExcluded = excludeMatcher(['.git', '*.log', 'docs/drafts', '/tmp']);
    assert.equal(isExcluded('.git'), true);
    assert.equal(isExcluded('lib/.git'), true);
    assert.equal(isExcluded('logs/app.log'), true);
    assert.equal(isExcluded('app.logs'), false);
    assert.equal(isExcluded('docs/drafts'), true);
    assert.equal(isExcluded('src/docs/drafts'), false);
    assert.equal(isExcluded('tmp'), true);
    assert.equal(isExcluded('src/tmp'), false);
  });
});

describe('release content hash', () => {
  it('is the same for the same files anywhere, and changes with a content, a mode, a path or a symlink target', async () => {
    const a = tree('hash-a', { 'server.js': 'v1', 'lib/x.js': 'x' });
    const b = tree('hash-b', { 'server.js': 'v1', 'lib/x.js': 'x' });
    const base = await hashOf(a);
    assert.equal(await hashOf(b), base);
    fs.writeFileSync(path.join(b, 'server.js'), 'v2');
    assert.notEqual(await hashOf(b), base);
    fs.writeFileSync(path.join(b, 'server.js'), 'v1');
    fs.chmodSync(path.join(b, 'server.js'), 0o755);
    assert.notEqual(await hashOf(b), base);
    fs.chmodSync(path.join(b, 'server.js'), fs.statSync(path.join(a, 'server.js')).mode & 0o777);
    assert.equal(await hashOf(b), base);
    fs.symlinkSync('lib/x.js', path.join(b, 'link'));
    const withLink = await hashOf(b);
    assert.notEqual(withLink, base);
    fs.unlinkSync(path.join(b, 'link'));
    fs.symlinkSync('lib/y.js', path.join(b, 'link'));
    assert.notEqual(await hashOf(b), withLink);
  });

  it('leaves out excluded paths and the data dir, and resolves a symlinked root', async () => {
    const root = tree('hash-exclude', { 'server.js': 'v1' });
    const base = await hashOf(root);
    fs.mkdirSync(path.join(root, '.cutover'));
    fs.writeFileSync(path.join(root, '.cutover', 'state.db'), 'changing');
    fs.writeFileSync(path.join(root, 'debug.log'), 'noise');
    assert.equal(await hashOf(root, ['*.log'], [path.join(root, '.cutover')]), base);
    const current = path.join(scratch, 'current');
    fs.symlinkSync(root, current);
    assert.equal(await hashOf(current, ['*.log'], [path.join(root, '.cutover')]), base);
  });
});

describe('planPrune', () => {
  const releases = [1, 2, 3, 4, 5, 6].map((revision) => ({ revision, createdAt: revision }));

  it('keeps the `keep` newest besides those in use', () => {
    assert.deepEqual(planPrune({ releases, inUse: new Set([6]), keep: 2 }), [1, 2, 3]);
  });

  it('never removes a release in use, however old', () => {
    assert.deepEqual(planPrune({ releases, inUse: new Set([1, 6]), keep: 1 }), [2, 3, 4]);
    assert.deepEqual(planPrune({ releases, inUse: new Set([1, 2, 3, 4, 5, 6]), keep: 0 }), []);
  });
});

describe('ReleaseSnapshots', () => {
  it('links unchanged files from the previous release, copies the changed one, and makes the files read-only', async () => {
    const dataDir = path.join(scratch, 'data-link');
    const source = tree('src-link', { 'server.js': 'v1', 'lib/a.js': 'a', 'lib/b.js': 'b' });
    const snapshots = new ReleaseSnapshots(dataDir);
    const first = await snapshots.stage(appSpec(source), null, null);
    assert.ok(first.partialDir);
    const dir1 = snapshots.promote(first, 1);
    await sealRelease(dir1);
    const latest: ReleaseRecord = {
      hash: first.hash,
      source,
      sourceKind: 'directory',
      commit: null,
      dir: dir1,
      bytes: 0,
      copiedBytes: 0,
      buildMs: null,
      state: 'ready',
    };

    const same = await snapshots.stage(appSpec(source), null, latest);
    assert.equal(same.hash, first.hash);
    assert.equal(same.partialDir, null, 'an unchanged source is not copied');

    fs.writeFileSync(path.join(source, 'server.js'), 'v2');
    const second = await snapshots.stage(appSpec(source), null, latest);
    assert.notEqual(second.hash, first.hash);
    assert.equal(second.copiedBytes, 2);
    const dir2 = snapshots.promote(second, 2);
    assert.equal(fs.statSync(path.join(dir2, 'lib/a.js')).ino, fs.statSync(path.join(dir1, 'lib/a.js')).ino);
    assert.notEqual(fs.statSync(path.join(dir2, 'server.js')).ino, fs.statSync(path.join(dir1, 'server.js')).ino);
    assert.equal(fs.readFileSync(path.join(dir1, 'server.js'), 'utf8'), 'v1');
    assert.equal(fs.readFileSync(path.join(dir2, 'server.js'), 'utf8'), 'v2');
    assert.equal(fs.statSync(path.join(dir2, 'lib/a.js')).mode & 0o222, 0, 'files are read-only');
  });

  it('links shared paths into DATA_DIR/shared/APP, seeded from the source once', async () => {
    const dataDir = path.join(scratch, 'data-shared');
    const source = tree('src-shared', { 'server.js': 'v1', 'uploads/seed.txt': 'seed' });
    const snapshots = new ReleaseSnapshots(dataDir);
    const staged = await snapshots.stage(appSpec(source, { shared: ['uploads', 'cache'] }), null, null);
    const dir = snapshots.promote(staged, 1);
    assert.equal(fs.readlinkSync(path.join(dir, 'uploads')), path.join(dataDir, 'shared', 'web', 'uploads'));
    assert.equal(fs.readFileSync(path.join(dir, 'uploads', 'seed.txt'), 'utf8'), 'seed');
    assert.ok(fs.statSync(path.join(dataDir, 'shared', 'web', 'cache')).isDirectory());
  });

  it('cleans copies under temporary names and directories no revision names, and keeps known releases', async () => {
    const dataDir = path.join(scratch, 'data-clean');
    const source = tree('src-clean', { 'server.js': 'v1' });
    const snapshots = new ReleaseSnapshots(dataDir);
    const kept = snapshots.promote(await snapshots.stage(appSpec(source), null, null), 1);
    fs.writeFileSync(path.join(source, 'server.js'), 'v2');
    const half = await snapshots.stage(appSpec(source), null, null);
    const orphan = path.join(snapshots.appDir('web'), '9-abcdef');
    fs.mkdirSync(orphan);
    const removed = await snapshots.cleanLeftovers(new Set([kept]));
    assert.ok(removed.includes(half.partialDir!));
    assert.ok(removed.includes(orphan));
    assert.ok(fs.existsSync(kept));
    assert.ok(fs.existsSync(`${kept}.manifest.gz`));
    assert.equal(fs.existsSync(half.partialDir!), false);
  });
});
