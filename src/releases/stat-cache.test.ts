import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RACY_WINDOW_NS, reusableHash, statKeyFor, type FileStat } from './stat-cache.js';

const SCAN_STARTED_NS = 1_800_000_000_000_000_000n;
const OLD_NS = SCAN_STARTED_NS - 3_600_000_000_000n;
const stat: FileStat = { size: 4096n, mtimeNs: OLD_NS, ctimeNs: OLD_NS + 5n, ino: 1234n, dev: 2049n, mode: 0o100644n };

describe('statKeyFor', () => {
  it('keys an old file by size, mtime, ctime, inode, device and mode; a change to any one changes the key', () => {
    const key = statKeyFor(stat, SCAN_STARTED_NS);
    assert.notEqual(key, '');
    assert.equal(statKeyFor({ ...stat }, SCAN_STARTED_NS), key);
    for (const field of ['size', 'mtimeNs', 'ctimeNs', 'ino', 'dev', 'mode'] as const)
      assert.notEqual(statKeyFor({ ...stat, [field]: stat[field] + 1n }, SCAN_STARTED_NS), key, `${field} is part of the key`);
  });

  it('gives no key to a file whose mtime or ctime is within the racy window of the scan, or after it', () => {
    const edge = SCAN_STARTED_NS - RACY_WINDOW_NS;
    assert.equal(statKeyFor({ ...stat, mtimeNs: edge }, SCAN_STARTED_NS), '');
    assert.equal(statKeyFor({ ...stat, ctimeNs: edge + 1n }, SCAN_STARTED_NS), '', 'a fresh ctime (chmod, an edit with its mtime put back) is enough');
    assert.equal(statKeyFor({ ...stat, mtimeNs: SCAN_STARTED_NS + 1_000n, ctimeNs: SCAN_STARTED_NS + 1_000n }, SCAN_STARTED_NS), '', 'a clock ahead of ours');
    assert.notEqual(statKeyFor({ ...stat, mtimeNs: edge - 1n, ctimeNs: edge - 1n }, SCAN_STARTED_NS), '');
  });
});

describe('reusableHash', () => {
  const key = statKeyFor(stat, SCAN_STARTED_NS);

  it('reuses the previous hash only when both keys are trusted and equal', () => {
    assert.equal(reusableHash({ statKey: key, sha256: 'abc' }, key), 'abc');
    assert.equal(reusableHash({ statKey: key, sha256: 'abc' }, statKeyFor({ ...stat, ctimeNs: stat.ctimeNs + 1n }, SCAN_STARTED_NS)), null);
  });

  it('reads the file when there is no previous entry, or either side was too fresh to trust', () => {
    assert.equal(reusableHash(undefined, key), null);
    assert.equal(reusableHash({ statKey: '', sha256: 'abc' }, ''), null);
    assert.equal(reusableHash({ statKey: '', sha256: 'abc' }, key), null);
    assert.equal(reusableHash({ statKey: key, sha256: 'abc' }, ''), null);
  });

  it('never matches a key in the older format (size:mtime:ctime:inode): those files are read once more', () => {
    assert.equal(reusableHash({ statKey: `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`, sha256: 'abc' }, key), null);
  });
});
