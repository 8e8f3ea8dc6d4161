/**
 * The request target to forward, in origin form (`/path?query`), or why the request is
 * refused (400). Origin-form targets pass byte for byte. An absolute-form target
 * (`http://host/path`) is accepted only when its authority equals the `Host` header and has
 * no userinfo or fragment (HAProxy's `h1_host_normalization` rules); it is then forwarded in
 * origin form, so the upstream never sees two different hosts.
 */
export function originFormTarget(url: string, host: string | undefined): string | undefined {
  if (url.charCodeAt(0) === 47 /* / */) return url;
  const schemeEnd = absoluteSchemeEnd(url);
  if (schemeEnd === 0 || host === undefined) return undefined;
  let pathStart = schemeEnd;
  while (pathStart < url.length) {
    const code = url.charCodeAt(pathStart);
    if (code === 47 /* / */ || code === 63 /* ? */) break;
    pathStart++;
  }
  const authority = url.slice(schemeEnd, pathStart);
  if (authority === '' || authority.includes('@') || url.includes('#')) return undefined;
  if (authority.toLowerCase() !== host.toLowerCase()) return undefined;
  const rest = url.slice(pathStart);
  return rest === '' ? '/' : rest.charCodeAt(0) === 63 ? `/${rest}` : rest;
}

/** Length of `http://` or `https://` (any case) at the start of `url`, else 0. */
function absoluteSchemeEnd(url: string): number {
  const prefix = url.slice(0, 8).toLowerCase();
  if (prefix.startsWith('http://')) return 7;
  if (prefix === 'https://') return 8;
  return 0;
}
