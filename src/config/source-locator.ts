import { isAlias, isCollection, isMap, isScalar, isSeq, type Document, type LineCounter, type Pair, type Range } from 'yaml';
import type { KeyPath } from './finding.js';

/** Where a problem is: a file position, or an override such as `--set web.replicas=5` (line 0). */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
  isOverride: boolean;
}

interface Ranged {
  range?: Range | null;
}

/**
 * Maps key paths back to positions in the YAML text. Nodes that came from a `--set` override
 * (and the collections it created) are marked, so their problems point at the override.
 */
export class SourceLocator {
  readonly #doc: Document;
  readonly #lineCounter: LineCounter;
  readonly #file: string;
  readonly #overrides = new Map<unknown, string>();

  constructor(doc: Document, lineCounter: LineCounter, file: string) {
    this.#doc = doc;
    this.#lineCounter = lineCounter;
    this.#file = file;
  }

  /** Records that `node` was set by the override `origin`, e.g. `--set web.replicas=5`. */
  markOverride(node: unknown, origin: string): void {
    if (node !== null && typeof node === 'object' && !this.#overrides.has(node)) this.#overrides.set(node, origin);
  }

  /**
   * The position of the value (or key) at `path`. A key that is missing points at the mapping
   * that should hold it. A block mapping or list, and an empty value, point at their key.
   */
  locate(path: KeyPath, at: 'value' | 'key'): SourcePosition {
    let node: unknown = this.#doc.contents;
    let positioned: unknown = node;
    let origin = this.#overrides.get(node);
    for (const [index, key] of path.entries()) {
      node = isAlias(node) ? node.resolve(this.#doc) : node;
      const isLast = index === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((item) => keyText(item.key) === String(key));
        if (pair === undefined) break;
        origin ??= this.#overrides.get(pair.value);
        if ((isLast && at === 'key') || pair.value === null || isEmptyScalar(pair.value)) {
          positioned = hasRange(pair.key) ? pair.key : pair.value;
          break;
        }
        node = pair.value;
        // A block mapping or list starts at its first entry; its key is where it is declared.
        if (isCollection(node) && node.flow !== true && hasRange(pair.key)) {
          positioned = pair.key;
          continue;
        }
      } else if (isSeq(node)) {
        const item: unknown = node.items[Number(key)];
        if (item === undefined) break;
        origin ??= this.#overrides.get(item);
        node = item;
      } else {
        break;
      }
      positioned = node;
    }
    if (origin !== undefined) return { file: origin, line: 0, column: 0, isOverride: true };
    const offset = hasRange(positioned) ? positioned.range[0] : 0;
    return this.positionAt(offset);
  }

  /** The 1-based line and column of a character offset in the file. */
  positionAt(offset: number): SourcePosition {
    const { line, col } = this.#lineCounter.linePos(offset);
    return { file: this.#file, line, column: col, isOverride: false };
  }
}

/** The key path of the deepest entry around a character offset, to name the key near a YAML syntax error. */
export function keyPathAtOffset(doc: Document, text: string, offset: number): PropertyKey[] {
  const path: PropertyKey[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    let next: { key: PropertyKey; value: unknown } | undefined;
    if (isCollection(node)) {
      // In a block collection, an entry's indentation counts as part of it.
      const isFlow = node.flow === true;
      const startOf = (at: number) => (isFlow ? at : lineStart(text, at));
      for (const [index, item] of node.items.entries()) {
        const key: unknown = isMap(node) ? (item as Pair).key : item;
        const value: unknown = isMap(node) ? (item as Pair).value : item;
        const start = hasRange(key) ? startOf(key.range[0]) : undefined;
        const end = hasRange(value) ? value.range[2] : hasRange(key) ? key.range[2] : undefined;
        if (start !== undefined && end !== undefined && start <= offset && offset <= end) next = { key: isMap(node) ? keyText(key) : index, value };
      }
    }
    if (next === undefined) return path;
    path.push(next.key);
    node = next.value;
  }
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function hasRange(node: unknown): node is { range: Range } {
  return node !== null && typeof node === 'object' && Array.isArray((node as Ranged).range);
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && (node.source === '' || node.source === undefined) && hasRange(node) && node.range[0] === node.range[1];
}
