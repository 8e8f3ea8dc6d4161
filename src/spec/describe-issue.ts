import { z } from 'zod';
import { fieldHints, type FieldHint } from './config-schema.js';
import { describeValue } from './describe-value.js';
import type { Finding, KeyPath } from './finding.js';

type Issue = z.core.$ZodIssue;

const TYPE_NOUNS: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  int: 'an integer',
  number: 'a number',
  boolean: 'true or false',
};

/**
 * Turns zod's issues into findings with messages meant for a person editing YAML: "expected an
 * integer ≥ 1, got -2", "unknown key "replica"" with a did-you-mean, a hint from the schema.
 *
 * @param root the schema that produced the issues, to look up hints and allowed keys by path.
 */
export function describeIssues(issues: readonly Issue[], root: z.ZodType): Finding[] {
  return issues.flatMap((issue) => describeIssue(issue, root, []));
}

function describeIssue(issue: Issue, root: z.ZodType, prefix: KeyPath): Finding[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(root, path);
      return issue.keys.map((key) => ({ path: [...path, key], at: 'key', message: `unknown key "${key}"`, hint: unknownKeyHint(key, allowed) }));
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      const keySchema = recordKeyAt(root, path.slice(0, -1));
      return [
        {
          path,
          at: 'key',
          message: inner?.message ?? `invalid key ${describeValue(issue.input)}`,
          hint: (inner && customHint(inner)) ?? hintAt(keySchema)?.hint,
        },
      ];
    }
    case 'invalid_union': {
      // When the value had the right type for exactly one branch, that branch's issues say more.
      const matching = issue.errors.filter((branch) => !branch.every((inner) => inner.code === 'invalid_type' && inner.path.length === 0));
      const branch = matching.length === 1 ? matching[0] : undefined;
      if (branch !== undefined) return branch.flatMap((inner) => describeIssue(inner, root, path));
      const firstExpected = issue.errors[0]?.[0];
      const noun = firstExpected?.code === 'invalid_type' ? firstExpected.expected : undefined;
      return [typeFinding(path, root, issue.input, noun)];
    }
    case 'invalid_type':
      return [typeFinding(path, root, issue.input, issue.expected)];
    default: {
      if (issue.input === undefined && issue.code !== 'custom') return [typeFinding(path, root, undefined, undefined)];
      return [{ path, at: 'value', message: issue.message, hint: customHint(issue) ?? hintAt(schemaAt(root, path))?.hint }];
    }
  }
}

function typeFinding(path: KeyPath, root: z.ZodType, input: unknown, expected: string | undefined): Finding {
  const hint = hintAt(schemaAt(root, path));
  if (input === undefined && path.length > 0) {
    return { path, at: 'value', message: `missing required key "${String(path[path.length - 1])}"`, hint: hint?.hint };
  }
  const noun = hint?.expected ?? (expected === undefined ? undefined : TYPE_NOUNS[expected]) ?? 'another kind of value';
  return { path, at: 'value', message: `expected ${noun}, got ${describeValue(input)}`, hint: hint?.hint };
}

function customHint(issue: Issue): string | undefined {
  if (issue.code !== 'custom') return undefined;
  const hint: unknown = issue.params?.['hint'];
  return typeof hint === 'string' ? hint : undefined;
}

function unknownKeyHint(key: string, allowed: readonly string[]): string | undefined {
  if (allowed.length === 0) return undefined;
  const list = allowed.join(', ');
  const closest = allowed
    .map((candidate) => ({ candidate, distance: editDistance(key.toLowerCase(), candidate.toLowerCase()) }))
    .filter(({ distance }) => distance <= Math.max(1, Math.floor(key.length / 3)))
    .sort((a, b) => a.distance - b.distance)[0];
  return closest === undefined ? `the keys allowed here are ${list}` : `did you mean "${closest.candidate}"? The keys allowed here are ${list}`;
}

/** The schema that validates the value at `path`, looking through optional wrappers. */
function schemaAt(root: z.ZodType, path: KeyPath): z.ZodType | undefined {
  let schema: z.ZodType | undefined = root;
  for (const key of path) {
    if (schema === undefined) return undefined;
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject) schema = (inner.shape as Record<string, z.ZodType>)[String(key)];
    else if (inner instanceof z.ZodRecord) schema = inner.valueType as z.ZodType;
    else if (inner instanceof z.ZodArray) schema = inner.element as z.ZodType;
    else return undefined;
  }
  return schema;
}

function allowedKeysAt(root: z.ZodType, path: KeyPath): string[] {
  const schema = schemaAt(root, path);
  const inner = schema === undefined ? undefined : unwrap(schema);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

function recordKeyAt(root: z.ZodType, path: KeyPath): z.ZodType | undefined {
  const schema = schemaAt(root, path);
  const inner = schema === undefined ? undefined : unwrap(schema);
  return inner instanceof z.ZodRecord ? (inner.keyType as z.ZodType) : undefined;
}

function hintAt(schema: z.ZodType | undefined): FieldHint | undefined {
  let current = schema;
  while (current !== undefined) {
    const hint = fieldHints.get(current);
    if (hint !== undefined) return hint;
    current = current instanceof z.ZodOptional ? (current.unwrap() as z.ZodType) : undefined;
  }
  return undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
  return current;
}

/** Edit distance counting a swap of two neighbouring letters as one edit, for "did you mean". */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.length, b.length);
}
