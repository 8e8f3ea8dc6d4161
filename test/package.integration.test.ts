/**
 * What `npm pack` would publish: the library and the CLI, without compiled tests or test
 * helpers, and nothing in it imports a file that is left out.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/repo.js';

const ROOT = repoRoot();
/** Relative module paths in compiled code: static and dynamic imports, and files forked by URL. */
const RELATIVE_MODULE = /(?:\bfrom\s*|\bimport\s*\(\s*|new URL\(\s*)['"](\.{1,2}\/[^'"]+\.js)['"]/g;

async function packedFiles(): Promise<string[]> {
  // --ignore-scripts: list what dist/ holds now instead of rebuilding it under the running tests.
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
  assert.ok(pack, 'npm pack --json printed no package');
  return pack.files.map((file) => file.path);
}

describe('the published package', () => {
  let files: string[];
  before(async () => {
    files = await packedFiles();
  });

  it('holds the library entry, the CLI and the JSON schema', () => {
    for (const file of ['dist/src/index.js', 'dist/src/index.d.ts', 'bin/cutover.js', 'schema/cutover.schema.json']) {
      assert.ok(files.includes(file), `${file} is not in the package`);
    }
  });

  it('holds no compiled test and no test helper', () => {
    assert.deepEqual(
      files.filter((file) => /\.test\./.test(file) || file.startsWith('dist/test/')),
      [],
    );
  });

  it('imports only files it holds', () => {
    const packed = new Set(files);
    const missing: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      for (const [, target] of readFileSync(path.join(ROOT, file), 'utf8').matchAll(RELATIVE_MODULE)) {
        const resolved = path.posix.join(path.posix.dirname(file), target!);
        if (!packed.has(resolved)) missing.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
