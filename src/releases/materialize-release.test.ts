import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CutoverError } from '../errors.js';
import { excludeMatcher } from './exclude-matcher.js';
import { materializeRelease } from './materialize-release.js';
import { scanTree } from './scan-tree.js';
import { RACY_WINDOW_NS, wallClockNs } from './stat-cache.js';

/** A source tree of two files, scanned with the clock at `clockNs`; returns what a snapshot would copy from. */
async function scannedSource(clockNs: bigint): Promise<{ source: string; target: string; manifest: Awaited<ReturnType<typeof scanTree>>['manifest'] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-materialize-'));
  const source = path.join(dir, 'src');
  fs.mkdirSync(source);
  fs.writeFileSync(path.join(source, 'server.js'), 'console.log("v1");\n');
  fs.writeFileSync(path.join(source, 'other.js'), 'export {};\n');
  const { manifest } = await scanTree({ root: source, isExcluded: excludeMatcher([]), alwaysExcluded: [], previous: null, clockNs: () => clockNs });
  return { source, target: path.join(dir, 'release'), manifest };
}

function materialize(scan: Awaited<ReturnType<typeof scannedSource>>): Promise<unknown> {
  return materializeRelease({
    sourceRoot: scan.source,
    manifest: scan.manifest,
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

  it('refuses a file edited after the scan, found by its stat when the scan could key it', async () => {
    // A clock well past the files' times: the scan keys them (they are not "racy").
    const scan = await scannedSource(wallClockNs() + 2n * RACY_WINDOW_NS);
    const entry = scan.manifest.entries.find((e) => e.path === 'server.js');
    assert.ok(entry?.kind === 'file' && entry.statKey !== '', 'the scan keyed the file by its stat');
    fs.writeFileSync(path.join(scan.source, 'server.js'), 'console.log("v2");\n');
    await assert.rejects(materialize(scan), isChangedWhileTaken);
  });

  it('refuses a file edited after the scan, found by hashing the copy when the file was too fresh to key', async () => {
    const scan = await scannedSource(wallClockNs());
    const entry = scan.manifest.entries.find((e) => e.path === 'server.js');
    assert.ok(entry?.kind === 'file' && entry.statKey === '', 'the file was too fresh for a stat key');
    fs.writeFileSync(path.join(scan.source, 'server.js'), 'console.log("v2");\n');
    await assert.rejects(materialize(scan), isChangedWhileTaken);
  });
});
