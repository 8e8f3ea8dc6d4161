import { BlockList, isIP } from 'node:net';
import { CutoverError } from '../errors.js';

/**
 * The peers whose `X-Forwarded-*` headers the proxy believes: addresses and CIDR blocks.
 * IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`) match IPv4 entries.
 *
 * @example
 * const trusted = new TrustedProxies(['10.0.0.0/8', '::1']);
 * trusted.isTrusted('10.1.2.3'); // true
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly isEmpty: boolean;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const problem = addEntry(this.list, entry);
      if (problem !== undefined) {
        throw new CutoverError('PROXY_INVALID_OPTION', `trusted proxy ${JSON.stringify(entry)} ${problem}`, {
          hint: 'write an IP address such as 10.0.0.1 or a CIDR block such as 10.0.0.0/8',
        });
      }
    }
    this.isEmpty = entries.length === 0;
  }

  isTrusted(address: string | undefined): boolean {
    if (this.isEmpty || address === undefined) return false;
    if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return this.list.check(address.slice(7), 'ipv4');
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Adds one entry; returns what is wrong with it, if anything. Also used by the config check. */
export function addEntry(list: BlockList, entry: string): string | undefined {
  const [address = '', prefixText, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return 'is not an IP address or CIDR block';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) {
    list.addAddress(address, type);
    return undefined;
  }
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) return `has an invalid prefix length /${prefixText}`;
  list.addSubnet(address, prefix, type);
  return undefined;
}

/** What is wrong with a trusted-proxy entry, or undefined when it is valid. */
export function trustedProxyProblem(entry: string): string | undefined {
  return addEntry(new BlockList(), entry);
}
