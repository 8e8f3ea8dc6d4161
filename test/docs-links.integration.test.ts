import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brokenLinks, githubSlug, headingAnchors, markdownLinks } from './helpers/markdown-links.js';
import { repoRoot } from './helpers/repo.js';

const README_MAX_LINES = 200;

/** README.md, CONTRIBUTING.md and every page in docs/, relative to the repository root. */
function documentationFiles(root: string): string[] {
  const pages = fs
    .readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', 'CONTRIBUTING.md', ...pages];
}

function lineCount(text: string): number {
  const lines = text.split('\n');
  return text.endsWith('\n') ? lines.length - 1 : lines.length;
}

describe('documentation', () => {
  const root = repoRoot();
  const files = documentationFiles(root);

  it('has a README, a CONTRIBUTING.md and pages in docs/', () => {
    for (const file of ['README.md', 'CONTRIBUTING.md']) assert.ok(fs.existsSync(path.join(root, file)), `${file} is missing`);
    assert.ok(files.length > 2, 'docs/ has no Markdown page');
  });

  for (const file of files) {
    it(`resolves every relative link and anchor in ${file}`, () => {
      assert.deepEqual(brokenLinks(root, file), []);
    });
  }

  it(`keeps the README a landing page of at most ${README_MAX_LINES} lines with the two quick-start commands`, () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    assert.ok(lineCount(readme) <= README_MAX_LINES, `README.md has ${lineCount(readme)} lines`);
    assert.ok(readme.includes('npm install && npm run demo'), 'the quick start runs npm install && npm run demo');
    assert.ok(readme.includes('npm test'), 'the quick start runs npm test');
  });

  it('links every page in docs/ from the README', () => {
    const linked = new Set(markdownLinks(fs.readFileSync(path.join(root, 'README.md'), 'utf8')).map((link) => link.target.split('#')[0]));
    const unlinked = files.filter((file) => file.startsWith('docs/') && !linked.has(file));
    assert.deepEqual(unlinked, []);
  });
});

describe('the documentation link checker', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-docs-links-'));
    fs.mkdirSync(path.join(dir, 'docs'));
    fs.writeFileSync(path.join(dir, 'docs', 'page.md'), '# Page\n\n## Setup\n\n## Setup\n\n```sh\n# not a heading\n```\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('makes GitHub anchors: lowercase, punctuation dropped but hyphens, spaces to hyphens', () => {
    assert.equal(githubSlug("The proxy's limits (`proxy:`)"), 'the-proxys-limits-proxy');
    assert.equal(githubSlug('`cutover status --json`'), 'cutover-status---json');
    assert.equal(githubSlug('Limits, today'), 'limits-today');
    assert.equal(githubSlug('Where `preTraffic` runs'), 'where-pretraffic-runs');
  });

  it('numbers repeated headings -1, -2 and ignores headings in fenced code', () => {
    assert.deepEqual([...headingAnchors('# A\n## A\n### A\n```\n# B\n```\n')], ['a', 'a-1', 'a-2']);
  });

  it('reports a missing file and a missing anchor, and accepts links that resolve', () => {
    fs.writeFileSync(
      path.join(dir, 'README.md'),
      [
        '# Title',
        '[ok](docs/page.md) [ok](docs/page.md#setup-1) [ok](#title) [ok](docs/)',
        '[gone](docs/gone.md)',
        '[no anchor](docs/page.md#install)',
        '[not here](#nowhere)',
      ].join('\n'),
    );
    assert.deepEqual(brokenLinks(dir, 'README.md'), [
      'README.md:3: docs/gone.md: no such file',
      'README.md:4: docs/page.md#install: no heading makes #install in docs/page.md',
      'README.md:5: #nowhere: no heading makes #nowhere in README.md',
    ]);
  });

  it('ignores web and mail links, links in code, and links written in fenced code blocks', () => {
    fs.writeFileSync(
      path.join(dir, 'README.md'),
      ['[web](https://example.com/x.md) [mail](mailto:a@example.com) `[code](gone.md)`', '```md', '[fenced](gone.md)', '```'].join('\n'),
    );
    assert.deepEqual(brokenLinks(dir, 'README.md'), []);
  });
});
