import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CutoverError } from '../errors.js';
import { excludeMatcher } from './exclude-matcher.js';
import { materializeRelease } from './materialize-release.js';
import { scanTree, type ScannedTree } from './scan-tree.js';
import { RACY_WINDOW_NS, wallClockNs } from './stat-cache.js';

/** A source tree of two files, scanned with the clock at `clockNs`; returns what a snapshot would copy from. */
async function scannedSource(clockNs: bigint): Promise<ScannedTree & { source: string; target: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-materialize-'));
  const source = path.join(dir, 'src');
  fs.mkdirSync(source);
  fs.writeFileSync(path.join(source, 'server.js'), 'console.log("v1");\n');
  fs.writeFileSync(path.join(source, 'other.js'), 'export {};\n');
  const scanned = await scanTree({ root: source, isExcluded: excludeMatcher([]), alwaysExcluded: [], previous: null, clockNs: () => clockNs });
  return { ...scanned, source, target: path.join(dir, 'release') };
}

function materialize(scan: Awaited<ReturnType<typeof scannedSource>>): Promise<unknown> {
  return materializeRelease({
    sourceRoot: scan.source,
    manifest: scan.manifest,
    sourceStats: scan.sourceStats,
    target: scan.target,
    previous: null,
    shouldLink: true,
    shared: [],
    sharedDir: path.join(scan.target, '..', 'shared'),
  });
}

function isChangedWhileTaken(error: unknown): boolean {
  return (
    error instanceof CutoverError && error.code === 'RELEASE_SNAPSHOT_FAILED' && /server\.js changed while the release was being taken/.test(error.message)
  );
}

describe('materializeRelease: a release holds exactly what its hash names', () => {
  it('copies an untouched source whole', async () => {
    const scan = await scannedSource(wallClockNs());
    await materialize(scan);
    assert.equal(fs.readFileSync(path.join(scan.target, 'server.js'), 'utf8'), 'console.log("v1");\n');
  });

  it('refuses a file edited after the scan, whose stat the scan could key', async () => {
    // A clock well past the files' times: the scan keys them (they are not "racy").
    const scan = await scannedSource(wallClockNs() + 2n * RACY_WINDOW_NS);
    const entry = scan.manifest.entries.find((e) => e.path === 'server.js');
    assert.ok(entry?.kind === 'file' && entry.statKey !== '', 'the scan keyed the file by its stat');
    // Another size: a same-size rewrite within one tick of the file clock keeps the stat (see checkCopied).
    fs.writeFileSync(path.join(scan.source, 'server.js'), 'console.log("v2, and longer");\n');
    await assert.rejects(materialize(scan), isChangedWhileTaken);
  });

  it('refuses a file edited after the scan, also when the file was too fresh for a stat key', async () => {
    const scan = await scannedSource(wallClockNs());
    const entry = scan.manifest.entries.find((e) => e.path === 'server.js');
    assert.ok(entry?.kind === 'file' && entry.statKey === '', 'the file was too fresh for a stat key');
    // Another size: a same-size rewrite within one tick of the file clock keeps the stat (see checkCopied).
    fs.writeFileSync(path.join(scan.source, 'server.js'), 'console.log("v2, and longer");\n');
    await assert.rejects(materialize(scan), isChangedWhileTaken);
  });
});
