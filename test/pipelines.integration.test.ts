import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Command } from 'commander';
import { program } from '../src/cli/main.js';
import { repoRoot } from './helpers/repo.js';

// Issue 24: the pipeline examples in docs/pipelines/ parse, and every cutover command line in
// them names a command and flags that exist.

const PIPELINES = ['github-actions.yml', 'azure-pipelines.yml', 'gitlab-ci.yml'];

/** Every string in a parsed YAML document (scripts are strings, wherever a CI system puts them). */
function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node !== null && typeof node === 'object') return Object.values(node).flatMap(strings);
  return [];
}

/** The words after `cutover` in each command line of a script, up to a redirection, pipe or `&&`. */
function cutoverCommandLines(script: string): string[][] {
  const lines: string[][] = [];
  for (const match of script.matchAll(/(?:^|\s)(?:npx\s+)?cutover\s+([^\n|&;>]*)/g)) {
    const words = match[1]!.trim().match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
    lines.push(words);
  }
  return lines;
}

function flagsOf(command: Command): Set<string> {
  return new Set(command.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined));
}

describe('the pipeline examples (docs/pipelines)', () => {
  for (const file of PIPELINES) {
    it(`${file} parses and runs only cutover commands and flags that exist`, () => {
      const text = fs.readFileSync(path.join(repoRoot(), 'docs', 'pipelines', file), 'utf8');
      const doc = parse(text) as unknown;
      assert.equal(typeof doc, 'object', 'a YAML mapping');
      const cli = program();
      const rootFlags = flagsOf(cli);
      const lines = strings(doc).flatMap(cutoverCommandLines);
      const names = lines.map((words) => words.find((w, i) => !w.startsWith('-') && !(i > 0 && words[i - 1] === '--host')));
      assert.ok(names.includes('rehearse'), `${file} rehearses: ${JSON.stringify(names)}`);
      assert.ok(names.includes('deploy'), `${file} deploys: ${JSON.stringify(names)}`);
      assert.match(text, /--junit rehearsal\.xml/, 'the rehearsal is kept as JUnit');
      assert.match(text, /CUTOVER_HOST|--host/, 'the deploy goes over SSH');
      for (const words of lines) {
        let command: Command | undefined;
        for (let i = 0; i < words.length; i++) {
          const word = words[i]!;
          if (word.startsWith('-')) {
            const flag = word.split('=')[0]!;
            const known = command === undefined ? rootFlags : new Set([...flagsOf(command), ...rootFlags]);
            assert.ok(known.has(flag), `${file}: cutover ${words.join(' ')}: no flag ${flag}`);
            if (flag === '--host' || flag === '--junit' || flag === '-c') i++;
          } else if (command === undefined) {
            command = cli.commands.find((c) => c.name() === word);
            assert.ok(command, `${file}: cutover ${words.join(' ')}: no command ${word}`);
          }
        }
        assert.ok(command, `${file}: cutover ${words.join(' ')} names a command`);
      }
    });
  }
});
