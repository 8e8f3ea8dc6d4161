import type { RunSpec } from './app-spec.js';

/** What a secret value is shown as, everywhere. */
export const SECRET_MASK = '***';
/**
 * Shorter secret values are masked where they are shown as variables, but not searched for in
 * free text (hook output, log lines, reasons): "1" or "true" would blank out half of it.
 */
export const MIN_SEARCHED_SECRET_LENGTH = 4;

/** A run spec's env with every secret value (`run.secrets`) shown as `***`. */
export function maskedEnv(run: Pick<RunSpec, 'env' | 'secrets'>): Record<string, string> {
  const secrets = new Set(run.secrets ?? []);
  return Object.fromEntries(Object.entries(run.env).map(([name, value]) => [name, secrets.has(name) ? SECRET_MASK : value]));
}

/** The secret values of a run spec long enough to be searched for in free text. */
export function secretValuesOf(run: Pick<RunSpec, 'env' | 'secrets'>): string[] {
  return (run.secrets ?? []).flatMap((name) => {
    const value = run.env[name];
    return value !== undefined && value.length >= MIN_SEARCHED_SECRET_LENGTH ? [value] : [];
  });
}

/**
 * Replaces every secret value in free text with `***`, longest values first (one may contain
 * another).
 *
 * @example
 * const mask = textMasker(['s3cret-pw']);
 * mask('connect failed: postgres://app:s3cret-pw@db'); // 'connect failed: postgres://app:***@db'
 */
export function textMasker(values: Iterable<string>): (text: string) => string {
  const sorted = [...new Set(values)].filter((value) => value.length >= MIN_SEARCHED_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => {
    let masked = text;
    for (const value of sorted) if (masked.includes(value)) masked = masked.replaceAll(value, SECRET_MASK);
    return masked;
  };
}

/** A JSON-shaped value with every string passed through `map` (object keys kept): masking, making text visible. */
export function mapStrings<T>(value: T, map: (text: string) => string): T {
  if (typeof value === 'string') return map(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => mapStrings(item, map)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)])) as T;
  }
  return value;
}
