import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import type { AppSpec } from '../model/app-spec.js';

/**
 * A fingerprint of what an app runs: the sha256 (hex) of its resolved spec as JSON with keys
 * sorted at every level, so two specs hash alike exactly when they are equal. The strategy is
 * left out, and so are the hooks, the analysis templates and the router: they say how to roll a revision out and how
 * traffic arrives, not what the revision is, so changing only them makes no new revision (each
 * rollout keeps the strategy and hooks it started with). `replicas` is left out too: how many
 * instances run is the app's (`cutover scale`, or a deploy of a new count), not the revision's.
 * With a release, where its files are (`release.from`, `run.cwd` inside it) and how many are kept
 * are left out: the files count through the release's content hash, compared beside this one.
 *
 * @example specHash(before) === specHash(after) // nothing to roll out
 */
export function specHash(app: AppSpec): string {
  const { strategy: _howToRollOut, hooks: _whatToRunAround, router: _howTrafficArrives, analysis: _howToJudge, replicas: _howMany, ...whatRuns } = app;
  return createHash('sha256')
    .update(canonicalJson(withoutReleasePlace(whatRuns)))
    .digest('hex');
}

function withoutReleasePlace<T extends Pick<AppSpec, 'run' | 'release'>>(spec: T): T {
  if (spec.release === undefined) return spec;
  const { from, keep: _howManyKept, ...release } = spec.release;
  return { ...spec, run: { ...spec.run, cwd: relative(from, spec.run.cwd) }, release: { ...release, from: '' } };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
