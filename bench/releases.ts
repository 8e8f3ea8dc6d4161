import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AppSpec } from '../src/model/app-spec.js';
import type { ReleaseRecord } from '../src/model/records.js';
import { ReleaseSnapshots } from '../src/releases/release-snapshots.js';

/**
 * Release snapshots against `cp -a` and `rsync -a --link-dest` of the same tree, in one run, in
 * rounds (A B C A B C …): the first snapshot (nothing to share) and the second after one file
 * changed (everything else shared), with the new disk each second copy takes. Issue 17's targets:
 * first ≤ 1.5× cp -a; second ≤ 0.2× cp -a and ≤ 5 MB new disk.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { files: { type: 'string', default: '20000' }, mb: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } },
  });
  const files = Number(values.files);
  const totalBytes = Number(values.mb) * 1e6;
  const rounds = Number(values.rounds);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-releases-'));
  try {
    const source = path.join(scratch, 'src');
    writeTree(source, files, totalBytes);
    console.log(
      `releases benchmark: ${files} files, ${(totalBytes / 1e6).toFixed(0)} MB, ${rounds} rounds (page cache warm and dirty pages written back before every step, for every peer alike)\n`,
    );
    const results: Record<string, { ms: number[]; newKb: number[] }> = {};
    const note = (name: string, ms: number, newKb = NaN): void => {
      results[name] ??= { ms: [], newKb: [] };
      results[name].ms.push(ms);
      results[name].newKb.push(newKb);
    };
    const changed = path.join(source, 'd0', 'f0.js');
    const original = fs.readFileSync(changed);
    for (let round = 0; round < rounds; round++) {
      const dir = path.join(scratch, `round-${round}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(changed, original);
      settle();
      note(
        'cp -a',
        timed(() => execFileSync('cp', ['-a', source, path.join(dir, 'cp')])),
      );

      settle();
      note(
        'rsync -a (first)',
        timed(() => execFileSync('rsync', ['-a', `${source}/`, path.join(dir, 'rsync-1')])),
      );
      fs.writeFileSync(changed, `${original.toString('utf8')}// changed in round ${round}\n`);
      settle();
      const rsyncMs = timed(() => execFileSync('rsync', ['-a', `--link-dest=${path.join(dir, 'rsync-1')}`, `${source}/`, path.join(dir, 'rsync-2')]));
      note('rsync -a --link-dest (second)', rsyncMs, newKb(path.join(dir, 'rsync-1'), path.join(dir, 'rsync-2')));

      fs.writeFileSync(changed, original);
      const snapshots = new ReleaseSnapshots(path.join(dir, 'data'));
      const spec = { name: 'web', release: { from: source, exclude: [], build: [], shared: [], keep: 5 } } as unknown as AppSpec;
      let first!: ReleaseRecord;
      settle();
      note(
        'cutover snapshot (first)',
        await timedAsync(async () => {
          const staged = await snapshots.stage(spec, null, null);
          first = {
            hash: staged.hash,
            source,
            sourceKind: 'directory',
            commit: null,
            dir: snapshots.promote(staged, 1),
            bytes: 0,
            copiedBytes: 0,
            buildMs: null,
            state: 'ready',
          };
        }),
      );
      fs.writeFileSync(changed, `${original.toString('utf8')}// changed in round ${round}\n`);
      let secondDir = '';
      settle();
      const ms = await timedAsync(async () => {
        secondDir = snapshots.promote(await snapshots.stage(spec, null, first), 2);
      });
      note('cutover snapshot (second)', ms, newKb(first.dir, secondDir, [`${secondDir}.manifest.gz`]));
      await snapshots.remove(first.dir);
      await snapshots.remove(secondDir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    fs.writeFileSync(changed, original);
    report(results, rounds);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** `files` files of about equal size in directories of 100, random content (nothing deduplicates or compresses). */
function writeTree(root: string, files: number, totalBytes: number): void {
  const size = Math.round(totalBytes / files);
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i % 100}.js`), randomBytes(size));
  }
}

/** Writes back what the previous step left dirty, so no step pays for another's writeback. */
function settle(): void {
  execFileSync('sync');
}

function timed(action: () => void): number {
  const started = performance.now();
  action();
  return performance.now() - started;
}

async function timedAsync(action: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** Disk the second copy added: du of both (a hard-linked file counted once) minus du of the first; plus extra files. */
function newKb(first: string, second: string, extra: string[] = []): number {
  const du = (...dirs: string[]): number =>
    Number(
      execFileSync('du', ['-sk', '--total', ...dirs], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1)!
        .split('\t')[0],
    );
  return du(first, second, ...extra) - du(first);
}

function report(results: Record<string, { ms: number[]; newKb: number[] }>, rounds: number): void {
  const cp = results['cp -a']!.ms;
  const rows = [['path', 'median ms', 'min–max ms', '× cp -a (paired median)', '× cp -a min–max', 'new disk MB']];
  for (const [name, { ms, newKb: kb }] of Object.entries(results)) {
    const ratios = ms.map((value, round) => value / cp[round]!);
    rows.push([
      name,
      median(ms).toFixed(0),
      `${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)}`,
      median(ratios).toFixed(2),
      `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
      kb.every(Number.isNaN) ? '-' : (median(kb) / 1024).toFixed(2),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  console.log(`\n${rounds} rounds. Targets (issue 17): first ≤ 1.5× cp -a; second ≤ 0.2× cp -a and ≤ 5 MB new disk.`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
