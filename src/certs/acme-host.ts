/** The longest DNS name (RFC 1035), without the trailing dot. */
const MAX_NAME_LENGTH = 253;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export type AcmeHostCheck = { isValid: true; host: string } | { isValid: false; reason: string };

/**
 * Whether `host` can get a certificate over HTTP-01, and its canonical form (lower case). Hosts
 * come from the config and name folders in the data dir, so anything but a plain DNS name is
 * refused here, before any path is built from it: no wildcards (the CA only proves a wildcard
 * through DNS-01, which cutover does not do), no IP addresses, no single labels, no `..`, no `/`.
 *
 * @example checkAcmeHost('WWW.Example.com') // { isValid: true, host: 'www.example.com' }
 * @example checkAcmeHost('*.example.com').isValid // false: wildcards need DNS-01
 */
export function checkAcmeHost(host: string): AcmeHostCheck {
  const name = host.toLowerCase();
  if (name.startsWith('*.')) {
    return {
      isValid: false,
      reason:
        'a wildcard host cannot get an ACME certificate over HTTP-01 (the CA proves wildcards only by DNS-01): give it a certificate file (tls: { cert, key })',
    };
  }
  if (name.length === 0 || name.length > MAX_NAME_LENGTH)
    return { isValid: false, reason: `not a DNS name: it has ${name.length} characters (1 to ${MAX_NAME_LENGTH})` };
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) return { isValid: false, reason: 'not a DNS name: write an international name in its ASCII form (xn--…)' };
  const labels = name.split('.');
  if (labels.length < 2) return { isValid: false, reason: 'not a DNS name a CA issues for: it needs at least two labels (like example.com)' };
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) return { isValid: false, reason: 'not a DNS name: each label is 1 to 63 letters, digits or inner hyphens' };
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? ''))
    return { isValid: false, reason: 'an IP address cannot get a certificate over HTTP-01 here: use a DNS name' };
  return { isValid: true, host: name };
}
