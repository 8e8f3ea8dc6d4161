import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers/repo.js';
import { allowedImports, findCycle, partGraph, partOf, sourceFiles } from './helpers/source-graph.js';

const root = repoRoot();
const files = sourceFiles(root);
const allowed = allowedImports(fs.readFileSync(path.join(root, 'docs/architecture.md'), 'utf8'));
const MAX_LINES = 400;

describe('the source layout of docs/architecture.md holds', () => {
  it('reads a table naming every part under src/ (precondition)', () => {
    assert.ok(files.length > 100, `only ${files.length} source files found`);
    const parts = new Set(files.map((f) => f.part));
    const unnamed = [...parts].filter((p) => !allowed.has(p));
    assert.deepEqual(unnamed, [], 'parts under src/ that the table of docs/architecture.md does not name');
  });

  it('each part imports only the parts its row allows', () => {
    const breaches: string[] = [];
    for (const file of files) {
      for (const target of file.imports) {
        const other = partOf(target);
        if (other !== null && other !== file.part && !allowed.get(file.part)?.has(other))
          breaches.push(`${file.file} imports ${target} (${file.part} → ${other})`);
      }
    }
    assert.deepEqual(breaches, []);
  });

  it('has no cycle between parts', () => {
    assert.equal(findCycle(partGraph(files))?.join(' → ') ?? null, null);
  });

  it('finds a cycle and a forbidden import when there is one (the checks can fail)', () => {
    const fake = [
      { file: 'src/a/x.ts', part: 'a', lines: 1, imports: ['src/b/y.js'] },
      { file: 'src/b/y.ts', part: 'b', lines: 1, imports: ['src/a/x.js'] },
    ];
    assert.deepEqual(findCycle(partGraph(fake)), ['a', 'b', 'a']);
    assert.equal(allowedImports('| `a` | owns | `b` |').get('a')?.has('c'), false);
  });

  it('imports nothing from test/ and keeps every non-test file under src/ within 400 lines', () => {
    assert.deepEqual(
      files.filter((f) => f.imports.some((i) => i.startsWith('test/'))).map((f) => f.file),
      [],
    );
    assert.deepEqual(
      files.filter((f) => f.lines > MAX_LINES).map((f) => `${f.file}: ${f.lines} lines`),
      [],
    );
  });

  it('keeps the CLI away from the controller and the store', () => {
    const cli = files.filter((f) => f.part === 'cli');
    assert.ok(cli.length > 10);
    assert.deepEqual(
      cli.flatMap((f) => f.imports.filter((i) => /^src\/(controller|store)\//.test(i)).map((i) => `${f.file} → ${i}`)),
      [],
    );
  });
});
