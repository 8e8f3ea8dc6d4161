import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { bearerToken, ensureAdminToken, isTokenValid } from './admin-token.js';

describe('admin token', () => {
  test('is generated with mode 0600 when absent, and read back the same afterwards', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-token-'));
    try {
      const file = path.join(dir, 'admin-token');
      const token = ensureAdminToken(file);
      assert.ok(token.length >= 40);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(ensureAdminToken(file), token);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a token file other users can read is refused, without showing the token', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-token-'));
    try {
      const file = path.join(dir, 'admin-token');
      fs.writeFileSync(file, 'secret-token-value-123456\n', { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      assert.throws(
        () => ensureAdminToken(file),
        (error: Error & { code?: string }) => error.code === 'ADMIN_TOKEN_EXPOSED' && !error.message.includes('secret-token'),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('only the exact bearer token is valid', () => {
    assert.equal(isTokenValid('abc', 'abc'), true);
    assert.equal(isTokenValid('abd', 'abc'), false);
    assert.equal(isTokenValid('', 'abc'), false);
    assert.equal(isTokenValid(undefined, 'abc'), false);
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer  abc '), 'abc');
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});
