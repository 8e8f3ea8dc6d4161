/**
 * Every file in test/fixtures/config/invalid/ must be refused, and its first problem must be the
 * one its first line announces: `# expect: LINE KEY.PATH` (`(root)` for the file as a whole).
 * An optional `# hint: TEXT` line requires that problem's hint to contain TEXT. Every file in
 * valid/ must load.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/spec/index.js';
import { repoRoot } from './helpers/repo.js';

const FIXTURES = join(repoRoot(), 'test', 'fixtures', 'config');
const MIN_INVALID_FIXTURES = 34;

interface Expectation {
  line: number;
  path: string;
  hint: string | undefined;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort();
}

function expectationOf(file: string): Expectation {
  const [first = '', second = ''] = readFileSync(file, 'utf8').split('\n');
  const expect = /^# expect: (\d+) (\S+)$/.exec(first);
  assert.ok(expect, `${file} must start with "# expect: LINE KEY.PATH"`);
  const hint = /^# hint: (.+)$/.exec(second)?.[1];
  return { line: Number(expect[1]), path: expect[2] === '(root)' ? '' : (expect[2] ?? ''), hint };
}

function loadError(file: string): ConfigError {
  try {
    loadConfig(file);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${file} loaded without a problem`);
}

describe('invalid config fixtures', () => {
  const dir = join(FIXTURES, 'invalid');
  const names = yamlFiles(dir);

  it(`has at least ${MIN_INVALID_FIXTURES} fixtures`, () => {
    assert.ok(names.length >= MIN_INVALID_FIXTURES, `only ${names.length} fixtures`);
  });

  for (const name of names) {
    const file = join(dir, name);
    const expected = expectationOf(file);
    it(`refuses ${name} with a problem at line ${expected.line}, ${expected.path || '(root)'}`, () => {
      const error = loadError(file);
      const problem = error.problems[0];
      assert.ok(problem, 'the error lists at least one problem');
      assert.deepEqual({ file: problem.file, line: problem.line, path: problem.path }, { file, line: expected.line, path: expected.path }, error.message);
      assert.ok(problem.column >= 1, 'a problem in the file has a column');
      assert.ok(problem.message.trim().length > 0, 'the problem has a message');
      assert.ok(error.message.includes(`${file}:${expected.line}:${problem.column}  `), error.message);
      if (problem.hint !== undefined) assert.ok(error.message.includes(`\n  hint: ${problem.hint}`), error.message);
      if (expected.hint !== undefined) {
        assert.ok(problem.hint?.includes(expected.hint), `hint ${JSON.stringify(problem.hint)} should contain ${JSON.stringify(expected.hint)}`);
      }
    });
  }
});

describe('valid config fixtures', () => {
  const dir = join(FIXTURES, 'valid');
  const names = yamlFiles(dir);

  it('has at least 3 fixtures', () => {
    assert.ok(names.length >= 3);
  });

  for (const name of names) {
    it(`loads ${name}`, () => {
      const config = loadConfig(join(dir, name));
      assert.ok(config.apps.length > 0);
    });
  }
});
