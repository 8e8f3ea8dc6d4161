import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './helpers/daemon-fixture.js';

/** `cutover certs` reads the data dir alone (issue 19): no daemon, no CA needed for these. */
describe('cutover certs without a daemon', () => {
  let dataDir: string;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-certs-cli-'));
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('says there are none yet, and --json lists none', async () => {
    const plain = await runCli(['certs', '--data-dir', dataDir]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /no ACME certificates/);
    const json = await runCli(['certs', '--json', '--data-dir', dataDir]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { directory: null, certificates: [] });
  });

  it('shows hosts and errors without letting them drive the terminal', async () => {
    fs.mkdirSync(path.join(dataDir, 'certs'), { mode: 0o700 });
    const record = { host: '*.x.example', issuer: null, notBefore: null, notAfter: null, state: 'failed', nextAttempt: null, failures: 0 };
    fs.writeFileSync(
      path.join(dataDir, 'certs', 'state.json'),
      JSON.stringify({ version: 1, directory: 'https://ca.example/dir', certificates: [{ ...record, lastError: 'bad \u001b[2J news' }] }),
    );
    const result = await runCli(['certs', '--data-dir', dataDir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\*\.x\.example\s+failed\s+-\s+-\s+never\s+bad \\x1b\[2J news/);
    assert.ok(!result.stdout.includes('\u001b'), 'no raw escape reaches the terminal');
  });

  it('exits 1 with CERT_STATE_UNREADABLE on a state file it cannot read', async () => {
    fs.writeFileSync(path.join(dataDir, 'certs', 'state.json'), '{ not json');
    const result = await runCli(['certs', '--data-dir', dataDir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot read the certificate state .*state\.json: it is not JSON/);
    assert.match(result.stderr, /hint: /);
  });
});
