import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CutoverError } from '../errors.js';
import { pendingRecord } from './cert-record.js';
import { certPaths, type CertPaths } from './cert-paths.js';
import { EMPTY_CERT_STATE, readCertState, writeCertState } from './cert-state-file.js';

describe('the certificate state file', () => {
  let dataDir: string;
  let paths: CertPaths;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-cert-state-'));
    paths = certPaths(dataDir);
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('reads as empty when there is none', () => {
    assert.deepEqual(readCertState(paths), EMPTY_CERT_STATE);
  });

  it('reads back what was written, private (0600 in a 0700 folder)', () => {
    const state = { version: 1 as const, directory: 'https://ca.example/dir', certificates: [pendingRecord('a.example.com', 5)] };
    writeCertState(paths, state);
    assert.deepEqual(readCertState(paths), state);
    assert.equal(fs.statSync(paths.stateFile).mode & 0o777, 0o600);
    assert.equal(fs.statSync(paths.root).mode & 0o777, 0o700);
    assert.deepEqual(fs.readdirSync(paths.root), ['state.json'], 'no temp file left');
  });

  it('refuses a file that is not JSON, another version or a malformed record, with CERT_STATE_UNREADABLE', () => {
    fs.mkdirSync(paths.root, { mode: 0o700 });
    const bad = [
      '{',
      JSON.stringify({ version: 2, certificates: [] }),
      JSON.stringify({ version: 1, directory: null, certificates: [{ ...pendingRecord('a.example.com', 5), state: 'exploded' }] }),
      JSON.stringify({ version: 1, directory: null, certificates: [{ ...pendingRecord('a.example.com', 5), failures: -1 }] }),
      JSON.stringify({ version: 1, directory: null, certificates: [{ host: 'a.example.com' }] }),
    ];
    for (const text of bad) {
      fs.writeFileSync(paths.stateFile, text);
      assert.throws(
        () => readCertState(paths),
        (error: unknown) => error instanceof CutoverError && error.code === 'CERT_STATE_UNREADABLE' && error.message.includes(paths.stateFile),
        text,
      );
    }
  });
});
