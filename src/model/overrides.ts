import type { RunSpec } from './app-spec.js';
import { SECRET_MASK } from './secrets.js';

/**
 * `--set KEY=VALUE` overrides as a revision records them: as typed, KEY relative to `apps`
 * (`web.run.env.VERSION=7`). Pure text handling; the config module applies them.
 */

/** The key of an override: everything before the first `=`. */
function keyOf(override: string): string {
  const equals = override.indexOf('=');
  return equals === -1 ? override : override.slice(0, equals);
}

/** The overrides that set something of `app` (their key starts with `app.`). */
export function overridesOfApp(overrides: readonly string[], app: string): string[] {
  return overrides.filter((override) => keyOf(override).startsWith(`${app}.`));
}

/** Overrides of `previous` whose key no override of `current` sets again: the file's value applies to them now. */
export function droppedOverrides(previous: readonly string[], current: readonly string[]): string[] {
  const kept = new Set(current.map(keyOf));
  return previous.filter((override) => !kept.has(keyOf(override)));
}

/** Overrides as shown: the value of one that sets a secret env var (`APP.run.env.NAME`, NAME in `run.secrets`) is masked. */
export function maskedOverrides(overrides: readonly string[], run: Pick<RunSpec, 'secrets'>): string[] {
  const secrets = new Set(run.secrets ?? []);
  return overrides.map((override) => {
    const key = keyOf(override).split('.');
    const isSecret = key.length === 4 && key[1] === 'run' && key[2] === 'env' && secrets.has(key[3]!);
    return isSecret ? `${keyOf(override)}=${SECRET_MASK}` : override;
  });
}
