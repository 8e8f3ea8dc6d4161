/**
 * Cookies cutover itself answers to. Browsers send a cookie to every port of a host, so one set
 * by the dashboard on 127.0.0.1:7070 also reaches the apps cutover proxies on 127.0.0.1; the
 * proxy removes them, so an app (or whoever reads its logs) never sees them. The dashboard no
 * longer uses a cookie, but browsers may still hold one from an earlier version.
 */
export const OWN_COOKIE_NAMES: readonly string[] = ['cutover_session'];

/** A cheap test, true whenever the header may hold one of them (the common case: false). */
export function mayHoldOwnCookie(cookieHeader: string): boolean {
  return cookieHeader.includes('cutover_session');
}

/**
 * The `Cookie` header without cutover's own cookies, the other pairs as they were sent;
 * undefined when nothing is left.
 *
 * @example
 * withoutOwnCookies('theme=dark; cutover_session=1.abc; lang=en'); // 'theme=dark; lang=en'
 */
export function withoutOwnCookies(cookieHeader: string): string | undefined {
  const kept = cookieHeader.split(';').filter((pair) => {
    const equals = pair.indexOf('=');
    return !OWN_COOKIE_NAMES.includes((equals === -1 ? pair : pair.slice(0, equals)).trim());
  });
  const value = kept.join(';').trim();
  return value === '' ? undefined : value;
}
