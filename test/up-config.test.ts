import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/load-config.js';
import { specHash } from '../src/config/spec-hash.js';
import { readUpConfig, upConfigFile, writeUpConfig } from '../src/daemon/up-config.js';
import { repoRoot } from './helpers/repo.js';

describe('up-config.json: the config as up read it, for the controllers', () => {
  it('gives back every valid example config as read, with the same spec hashes, in a file only the owner reads', (t) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-up-config-'));
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const fixtures = path.join(repoRoot(), 'test', 'fixtures', 'config', 'valid');
    const files = fs.readdirSync(fixtures).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 5, 'precondition: the example configs are there');
    for (const file of files) {
      const config = loadConfig(path.join(fixtures, file), { shouldReadAppEnv: false });
      writeUpConfig(dataDir, config);
      const kept = readUpConfig(dataDir);
      assert.ok(kept !== undefined, file);
      assert.deepEqual(
        kept.apps.map((app) => specHash(app)),
        config.apps.map((app) => specHash(app)),
        `${file}: the same revisions`,
      );
      assert.deepEqual(kept.metrics, config.metrics, `${file}: metrics`);
      assert.deepEqual(kept.proxy, JSON.parse(JSON.stringify(config.proxy)), `${file}: proxy`);
      assert.equal(fs.statSync(upConfigFile(dataDir)).mode & 0o777, 0o600);
    }
  });

  it('is absent, not an error, when no up wrote one (the controller then reads the config file)', () => {
    assert.equal(readUpConfig(path.join(os.tmpdir(), 'co-no-such-dir')), undefined);
  });
});
