import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { certPaths, hostCertFiles } from './cert-paths.js';
import { ChallengeFiles, isChallengeToken } from './challenge-files.js';

describe('HTTP-01 challenge files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-challenges-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('accepts base64url tokens only', () => {
    assert.equal(isChallengeToken('dGBFZ0a7g09-w9hcNlA-nbyvGxYfhzpuGMwwJrPYucI'), true);
    assert.equal(isChallengeToken('a'.repeat(128)), true);
    for (const token of ['', 'a'.repeat(129), '..', '../x', 'a/b', 'a.b', 'a b', 'a\nb', 'a%2f'])
      assert.equal(isChallengeToken(token), false, JSON.stringify(token));
  });

  it('writes the key authorization under the token (0600 in a 0700 folder) and removes it', () => {
    const files = new ChallengeFiles(path.join(dir, 'acme-challenges'));
    files.write('tok_en-1', 'tok_en-1.thumbprint');
    const file = path.join(dir, 'acme-challenges', 'tok_en-1');
    assert.equal(fs.readFileSync(file, 'utf8'), 'tok_en-1.thumbprint');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    files.remove('tok_en-1');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'acme-challenges')), []);
  });

  it('never builds a path from a token that is not base64url', () => {
    const files = new ChallengeFiles(path.join(dir, 'acme-challenges'));
    assert.throws(() => files.write('../escape', 'x'), /not base64url/);
    assert.throws(() => files.remove('../escape'), /not base64url/);
    assert.equal(fs.existsSync(path.join(dir, 'escape')), false);
  });
});

describe('host certificate folders', () => {
  it('are built only from canonical DNS names', () => {
    const paths = certPaths('/data');
    assert.equal(hostCertFiles(paths, 'a.example.com').cert, path.join('/data', 'certs', 'acme', 'a.example.com', 'cert.pem'));
    for (const host of ['..', '../x.example.com', 'A.example.com', '*.example.com', 'a/b.example.com'])
      assert.throws(() => hostCertFiles(paths, host), /not a host name/, host);
  });
});
