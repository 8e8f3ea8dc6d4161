import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { AppSpec } from '../model/app-spec.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { cachedSecretMasker } from './secret-masking.js';

function specWithSecret(name: string, secret: string): AppSpec {
  return { name, run: { command: ['app'], cwd: '/', env: { DB_PASSWORD: secret }, secrets: ['DB_PASSWORD'] } } as unknown as AppSpec;
}

describe('cachedSecretMasker', () => {
  it('reads the revisions once for many lines, and again as soon as a revision is written (issue 25: up with 100 apps)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-mask-'));
    const store = new SqliteStore(path.join(dir, 'state.db'));
    try {
      store.addRevision('web', specWithSecret('web', 'first-secret'), 'h1');
      let reads = 0;
      const listRevisions = store.listRevisions.bind(store);
      store.listRevisions = (app) => (reads++, listRevisions(app));
      const masker = cachedSecretMasker(store);
      const mask = (text: string): string => masker()(text);
      for (let line = 0; line < 100; line++) assert.equal(mask(`connect with first-secret (${line})`), `connect with *** (${line})`);
      assert.equal(reads, 1, 'one read of the revisions for 100 lines');
      store.addRevision('api', specWithSecret('api', 'second-secret'), 'h2');
      assert.equal(mask('second-secret and first-secret'), '*** and ***', 'a new revision counts at the next line');
      assert.equal(reads, 3, 'read again (both apps) once the revisions changed');
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
