/**
 * Host names and path prefixes of the front door: what a config may write, and how a request's
 * Host header and path are compared with them. Pure.
 */

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why `text` is not a host pattern (`example.com`, `*.example.com`), or undefined when it is.
 * IP addresses, ports, upper case, schemes and a lone `*` are refused.
 *
 * @example hostPatternProblem('*.api.example.com') // undefined
 * @example hostPatternProblem('https://example.com') // 'is not a host name: write it without a scheme'
 */
export function hostPatternProblem(text: string): string | undefined {
  if (text.includes('://')) return 'is not a host name: write it without a scheme';
  if (text.includes(':') || text.includes('/')) return 'is not a host name: write it without a port or path';
  if (text !== text.toLowerCase()) return 'is not a host name: write it in lower case';
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(text)) return 'is not a host name: write an international name in its ASCII form (xn--…)';
  if (text.endsWith('.')) return 'is not a host name: write it without the trailing dot';
  const name = text.startsWith('*.') ? text.slice(2) : text;
  if (name.length === 0 || name.length > 253) return 'is not a host name';
  const labels = name.split('.');
  if (labels.some((label) => !LABEL.test(label)))
    return text.includes('*') && !text.startsWith('*.') ? 'is not a host name: a wildcard is only allowed as *.domain' : 'is not a host name';
  if (labels.length < 2 && text.startsWith('*.')) return 'is too wide: a wildcard needs a domain of at least two labels, e.g. *.example.com';
  if (/^[0-9.]+$/.test(name)) return 'is an IP address: the front door routes by host name (give the app its own listen address instead)';
  return undefined;
}

/**
 * Why `text` is not a path prefix, or undefined when it is: it starts with `/`, has no query,
 * fragment, `..`, `.`, `//` or control characters.
 */
export function pathPrefixProblem(text: string): string | undefined {
  if (!text.startsWith('/')) return 'is not a path prefix: it must start with /';
  if (/[?#\s]/.test(text) || [...text].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f))
    return 'is not a path prefix: no query, fragment, spaces or control characters';
  if (text.includes('//') || text.split('/').some((segment) => segment === '.' || segment === '..')) return 'is not a path prefix: no empty, . or .. segments';
  // Compared with request targets byte for byte, and clients send such characters percent-encoded.
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(text)) return 'is not a path prefix: percent-encode characters outside ASCII, as clients send them (e.g. /caf%C3%A9)';
  return undefined;
}

/** A path prefix as compared: without a trailing slash (except `/` itself). */
export function normalizePathPrefix(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

/**
 * True when `path` (a request target, possibly with a query) is under `prefix` by whole
 * segments: `/api` covers `/api`, `/api/x` and `/api?q`, not `/apix`.
 */
export function isUnderPrefix(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  const next = path.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3f; /* ? */
}

/**
 * The host name of a Host header or `:authority`: lower case, without the port and without a
 * trailing dot; undefined when it is not a plausible name (nothing routes to it then).
 *
 * @example requestHostName('Example.COM:8443') // 'example.com'
 */
export function requestHostName(host: string | undefined): string | undefined {
  if (host === undefined || host.length === 0 || host.length > 260) return undefined;
  let name = host;
  if (name.startsWith('[')) return undefined; // an IPv6 literal: no app has it as a host
  const colon = name.lastIndexOf(':');
  if (colon !== -1) name = name.slice(0, colon);
  if (name.endsWith('.')) name = name.slice(0, -1);
  name = name.toLowerCase();
  return /^[a-z0-9.-]+$/.test(name) ? name : undefined;
}

/** The wildcard pattern that would cover `name` (`a.example.com` → `*.example.com`), or undefined. */
export function wildcardOf(name: string): string | undefined {
  const dot = name.indexOf('.');
  return dot <= 0 || name.indexOf('.', dot + 1) === -1 ? undefined : `*${name.slice(dot)}`;
}
