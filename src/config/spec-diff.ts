import type { AppSpec } from '../model/app-spec.js';

/** Most differences named in one line; the rest are counted. */
const MOST_NAMED = 5;

/**
 * What differs between two specs in what makes a revision (what runs and how: not replicas,
 * strategy, hooks, router or analysis), as `path: before → after` items, in path order.
 *
 * @example
 * describeSpecDifferences(revision7.spec, fromFile); // ['run.env.VERSION: 7 → 5']
 */
export function describeSpecDifferences(before: AppSpec, after: AppSpec): string[] {
  const old = flatten(revisionPart(before));
  const now = flatten(revisionPart(after));
  const paths = [...new Set([...old.keys(), ...now.keys()])].sort();
  const items = paths.filter((p) => old.get(p) !== now.get(p)).map((p) => `${p}: ${old.get(p) ?? '(none)'} → ${now.get(p) ?? '(none)'}`);
  return items.length > MOST_NAMED ? [...items.slice(0, MOST_NAMED), `${items.length - MOST_NAMED} more`] : items;
}

/** The message `cutover up` gives for an app brought back at its stable revision while the file says otherwise. */
export function configDriftMessage(revision: number, differences: readonly string[]): string {
  return `cutover.yaml differs from revision ${revision} (${differences.join(', ')}): cutover deploy rolls it out`;
}

function revisionPart(spec: AppSpec): Record<string, unknown> {
  const { strategy: _strategy, hooks: _hooks, router: _router, analysis: _analysis, replicas: _replicas, ...whatRuns } = spec;
  return whatRuns;
}

/** Leaves by dotted path; arrays are leaves (their order is their meaning). */
function flatten(value: unknown, prefix = '', into = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) flatten(item, prefix === '' ? key : `${prefix}.${key}`, into);
    }
    return into;
  }
  into.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
  return into;
}
