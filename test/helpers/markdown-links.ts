import fs from 'node:fs';
import path from 'node:path';

/** A link written in a Markdown file, with the line it is on (1-based). */
export interface MarkdownLink {
  target: string;
  line: number;
}

interface ProseLine {
  text: string;
  line: number;
}

const FENCE = /^\s*(`{3,}|~{3,})/;
const INLINE_CODE = /(`+)[\s\S]*?\1/g;
const INLINE_LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/;
const ATX_HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
// Web and mail links are not checked: they need the network and are not ours to keep.
const IGNORED_SCHEME = /^(https?|mailto):/i;

/** The lines of a Markdown text outside fenced code blocks: code shows links and headings, it does not make them. */
function proseLines(markdown: string): ProseLine[] {
  const lines: ProseLine[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = FENCE.exec(text)?.[1];
    if (fence === undefined) {
      if (marker !== undefined) fence = marker;
      else lines.push({ text, line: index + 1 });
      return;
    }
    const closes = marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && text.trim() === marker;
    if (closes) fence = undefined;
  });
  return lines;
}

/**
 * The anchor GitHub gives a heading: its text lowercased, punctuation other than hyphens and
 * underscores dropped, each space a hyphen.
 *
 * @example githubSlug("The proxy's limits (`proxy:`)") === 'the-proxys-limits-proxy'
 */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*]/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor the headings of a Markdown text make; a repeated heading gets -1, -2, … as on GitHub. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const occurrences = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = ATX_HEADING.exec(text)?.[2];
    if (heading === undefined) continue;
    const base = githubSlug(heading);
    let anchor = base;
    while (anchors.has(anchor)) {
      const count = (occurrences.get(base) ?? 0) + 1;
      occurrences.set(base, count);
      anchor = `${base}-${count}`;
    }
    anchors.add(anchor);
  }
  return anchors;
}

/** The inline links, images and reference definitions of a Markdown text, outside code. */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  for (const { text, line } of proseLines(markdown)) {
    const prose = text.replace(INLINE_CODE, '');
    for (const match of prose.matchAll(INLINE_LINK)) links.push({ target: match[1] ?? '', line });
    const definition = REFERENCE_DEFINITION.exec(prose)?.[1];
    if (definition !== undefined) links.push({ target: definition, line });
  }
  return links;
}

/**
 * What is wrong with the relative links of one Markdown file under `root`: a target that does
 * not exist (or lies outside `root`), or an `#anchor` that no heading of its file makes.
 * Each problem reads `FILE:LINE: TARGET: why`; none means every link resolves.
 */
export function brokenLinks(root: string, file: string): string[] {
  const source = path.join(root, file);
  const problems: string[] = [];
  for (const { target, line } of markdownLinks(fs.readFileSync(source, 'utf8'))) {
    if (IGNORED_SCHEME.test(target)) continue;
    const problem = linkProblem(root, source, target);
    if (problem !== undefined) problems.push(`${file}:${line}: ${target}: ${problem}`);
  }
  return problems;
}

function linkProblem(root: string, source: string, target: string): string | undefined {
  const hashAt = target.indexOf('#');
  const filePart = decodeURIComponent(hashAt === -1 ? target : target.slice(0, hashAt));
  const anchor = hashAt === -1 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
  if (filePart === '' && anchor === undefined) return 'empty link';
  const resolved = filePart === '' ? source : filePart.startsWith('/') ? path.join(root, filePart) : path.resolve(path.dirname(source), filePart);
  if (path.relative(root, resolved).startsWith('..')) return 'points outside the repository';
  if (!fs.existsSync(resolved)) return 'no such file';
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith('.md') || !fs.statSync(resolved).isFile()) return 'an anchor into a file that is not Markdown';
  if (!headingAnchors(fs.readFileSync(resolved, 'utf8')).has(anchor)) return `no heading makes #${anchor} in ${path.relative(root, resolved)}`;
  return undefined;
}
