/** A key path into the config, as zod and the YAML document spell it. */
export type KeyPath = readonly PropertyKey[];

/**
 * A problem before it has a position: what is wrong and at which key path. `at: 'key'` points at
 * the key itself (an unknown or badly named key) rather than at its value.
 */
export interface Finding {
  path: KeyPath;
  at: 'value' | 'key';
  message: string;
  hint?: string;
}

/** `['apps', 'web', 'replicas']` → `'apps.web.replicas'`. */
export function formatKeyPath(path: KeyPath): string {
  return path.map(String).join('.');
}
