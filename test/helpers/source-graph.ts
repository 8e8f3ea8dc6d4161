import fs from 'node:fs';
import path from 'node:path';

/** Top-level files under src/ that count as one part each (see docs/architecture.md). */
const ROOT_FILE_PARTS: Record<string, string> = { 'errors.ts': 'errors', 'error-catalog.ts': 'errors', 'exit-codes.ts': 'errors', 'index.ts': 'index' };

export interface SourceFile {
  /** Path from the repository root, with forward slashes. */
  file: string;
  part: string;
  lines: number;
  /** Relative imports, resolved to paths from the repository root. */
  imports: string[];
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The part a path under src/ belongs to: its top-level folder, or the part of a top-level file. */
export function partOf(file: string): string | null {
  const [top, rawFirst, second] = file.split('/');
  if (top !== 'src' || rawFirst === undefined) return null;
  // Imports name the compiled file (x.js); the source is x.ts.
  const first = second === undefined ? rawFirst.replace(/\.js$/, '.ts') : rawFirst;
  if (second === undefined) return ROOT_FILE_PARTS[first] ?? first.replace(/\.tsx?$/, '');
  return first;
}

/** Every non-test TypeScript file under src/, with its part and its relative imports. */
export function sourceFiles(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        const text = fs.readFileSync(path.join(root, rel), 'utf8');
        const imports = [...text.matchAll(IMPORT)].map((m) => path.posix.normalize(path.posix.join(dir, (m[1] ?? m[2])!)));
        files.push({ file: rel, part: partOf(rel)!, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0), imports });
      }
    }
  };
  walk('src');
  return files;
}

/** Part → the parts it imports (itself left out). */
export function partGraph(files: readonly SourceFile[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { part, imports } of files) {
    const targets = graph.get(part) ?? new Set<string>();
    graph.set(part, targets);
    for (const target of imports) {
      const other = partOf(target);
      if (other !== null && other !== part) targets.add(other);
    }
  }
  return graph;
}

/** One cycle of parts, if any (e.g. ['api', 'web', 'api']), found by depth-first search. */
export function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return null;
}

/** The "may import" column of the source-layout table in docs/architecture.md: part → allowed parts. */
export function allowedImports(markdown: string): Map<string, Set<string>> {
  const allowed = new Map<string, Set<string>>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | `part` | owns | may import |
    const part = /^`([a-z-]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!part || cells.length < 5) continue;
    allowed.set(part, new Set([...cells[3]!.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!)));
  }
  return allowed;
}
