import { isUnderPrefix, normalizePathPrefix, wildcardOf } from './host-names.js';

/** One app's claim on the shared listeners. */
export interface HostClaim<T> {
  hosts: readonly string[];
  paths: readonly string[];
  value: T;
}

interface PrefixEntry<T> {
  prefix: string;
  value: T;
}

/**
 * Which app a request on the shared listeners goes to: the exact host first, then the wildcard
 * that covers it (`*.example.com` covers one more label), and within a host the longest path
 * prefix by whole segments. A host whose prefixes do not cover the path falls through to the
 * wildcard. Immutable: a change builds a new table, swapped in at once. Pure.
 *
 * @example
 * const table = new HostTable([{ hosts: ['a.com'], paths: ['/'], value: 'web' }, { hosts: ['a.com'], paths: ['/api'], value: 'api' }]);
 * table.match('a.com', '/api/x'); // 'api'
 */
export class HostTable<T> {
  private readonly byHost = new Map<string, PrefixEntry<T>[]>();

  constructor(claims: readonly HostClaim<T>[]) {
    for (const claim of claims) {
      for (const host of claim.hosts) {
        const entries = this.byHost.get(host) ?? [];
        for (const path of claim.paths) {
          const prefix = normalizePathPrefix(path);
          // The first claim wins a clash (the config refuses clashes; a plan race must not flip it).
          if (!entries.some((entry) => entry.prefix === prefix)) entries.push({ prefix, value: claim.value });
        }
        entries.sort((a, b) => b.prefix.length - a.prefix.length);
        this.byHost.set(host, entries);
      }
    }
  }

  /** The value for a host name (lower case, no port) and a request target; undefined: no app. */
  match(host: string, path: string): T | undefined {
    const exact = pick(this.byHost.get(host), path);
    if (exact !== undefined) return exact;
    const wildcard = wildcardOf(host);
    return wildcard === undefined ? undefined : pick(this.byHost.get(wildcard), path);
  }

  /** True when some app claims this host name, exactly or by wildcard (whatever the path). */
  hasHost(host: string): boolean {
    if (this.byHost.has(host)) return true;
    const wildcard = wildcardOf(host);
    return wildcard !== undefined && this.byHost.has(wildcard);
  }
}

function pick<T>(entries: readonly PrefixEntry<T>[] | undefined, path: string): T | undefined {
  if (entries === undefined) return undefined;
  for (const entry of entries) if (isUnderPrefix(path, entry.prefix)) return entry.value;
  return undefined;
}
