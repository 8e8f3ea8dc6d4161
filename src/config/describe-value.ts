const MAX_SHOWN_CHARS = 60;

/**
 * Describes a value read from YAML the way an error message quotes it: strings in quotes,
 * numbers as written, collections by kind.
 *
 * @example describeValue('5 minutes') // '"5 minutes"'
 * @example describeValue({ a: 1 })   // 'a mapping'
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS - 3)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  return typeof value;
}
