import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { CutoverError } from '../../errors.js';
import type { FrontDoorRoute } from '../../model/traffic-plan.js';
import { wildcardOf } from './host-names.js';

/** Where the ACME client keeps the certificate of `host` inside the data dir (full chain and key). */
export function acmeCertificateFiles(dataDir: string, host: string): { cert: string; key: string } {
  const folder = join(dataDir, 'certs', 'acme', host);
  return { cert: join(folder, 'cert.pem'), key: join(folder, 'key.pem') };
}

/** One certificate and key file pair, loaded and watched; shared by every host that uses it. */
class CertificateSource {
  context: SecureContext | undefined = undefined;
  users = 0;
  private readonly onChange = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) this.reload();
  };

  constructor(
    readonly cert: string,
    readonly key: string,
    private readonly log: (line: string) => void,
    private readonly pollIntervalMs: number,
  ) {}

  /** Reads both files; on success swaps the context in (new handshakes use it, open connections keep theirs). */
  reload(): string | undefined {
    let context: SecureContext;
    try {
      context = createSecureContext({ cert: readFileSync(this.cert), key: readFileSync(this.key), minVersion: 'TLSv1.2' });
    } catch (error) {
      const why = (error as Error).message;
      this.log(`certificate ${this.cert}: ${this.context === undefined ? 'not loaded' : 'kept the previous one'}: ${why}`);
      return why;
    }
    const isFirst = this.context === undefined;
    this.context = context;
    this.log(`certificate ${this.cert}: ${isFirst ? 'loaded' : 'reloaded'}`);
    return undefined;
  }

  watch(): void {
    watchFile(this.cert, { interval: this.pollIntervalMs, persistent: false }, this.onChange);
    watchFile(this.key, { interval: this.pollIntervalMs, persistent: false }, this.onChange);
  }

  unwatch(): void {
    unwatchFile(this.cert, this.onChange);
    unwatchFile(this.key, this.onChange);
  }
}

/**
 * The certificates of the shared TLS listener, by host (SNI picks one). Certificate files, and
 * those the ACME client writes to the data dir, are watched (polled, so a file replaced by a
 * rename is seen too) and reloaded without closing a connection; a bad file keeps the previous
 * certificate and logs why. An ACME host whose files do not exist yet has no certificate: its
 * handshakes fail (no placeholder certificate is made) until the files appear.
 */
export class CertificateStore {
  private readonly sources = new Map<string, CertificateSource>();
  /** Per app, the sources it uses, by host. */
  private readonly apps = new Map<string, Map<string, CertificateSource>>();
  /** Host (or wildcard pattern) → source; rebuilt when an app changes. */
  private byHost = new Map<string, CertificateSource>();

  constructor(
    private readonly dataDir: string | null,
    private readonly log: (line: string) => void,
    private readonly pollIntervalMs = 1_000,
  ) {}

  /**
   * Sets an app's certificates. Throws PROXY_INVALID_PLAN when a certificate file given in the
   * config cannot be loaded the first time (ACME files may not exist yet: that is no error).
   */
  setApp(app: string, route: FrontDoorRoute): void {
    const hosts = new Map<string, CertificateSource>();
    const acquired: CertificateSource[] = [];
    try {
      if (route.tls !== false) {
        for (const host of route.hosts) {
          const files = route.tls === 'acme' ? this.acmeFiles(host) : route.tls;
          const source = this.acquire(files.cert, files.key, route.tls !== 'acme');
          acquired.push(source);
          hosts.set(host, source);
        }
      }
    } catch (error) {
      for (const source of acquired) this.release(source);
      throw error;
    }
    this.releaseApp(app);
    this.apps.set(app, hosts);
    this.rebuild();
  }

  removeApp(app: string): void {
    this.releaseApp(app);
    this.apps.delete(app);
    this.rebuild();
  }

  /** The context for an SNI name (exact host, then wildcard); undefined: no certificate. */
  contextFor(servername: string): SecureContext | undefined {
    return this.lookup(sniHostName(servername))?.context;
  }

  /** Which certificate serves a host name (for telling a request meant for another certificate: 421). */
  sourceFor(host: string): object | undefined {
    return this.lookup(host);
  }

  private lookup(host: string): CertificateSource | undefined {
    return this.byHost.get(host) ?? this.byHost.get(wildcardOf(host) ?? '');
  }

  close(): void {
    for (const source of this.sources.values()) source.unwatch();
    this.sources.clear();
    this.apps.clear();
    this.byHost = new Map();
  }

  private acmeFiles(host: string): { cert: string; key: string } {
    if (this.dataDir === null) throw new CutoverError('PROXY_INVALID_PLAN', `host "${host}" asks for an ACME certificate, but the proxy has no data dir`);
    return acmeCertificateFiles(this.dataDir, host);
  }

  private acquire(cert: string, key: string, isRequired: boolean): CertificateSource {
    const id = `${cert}\n${key}`;
    let source = this.sources.get(id);
    if (source === undefined) {
      source = new CertificateSource(cert, key, this.log, this.pollIntervalMs);
      const problem = source.reload();
      if (problem !== undefined && isRequired) {
        throw new CutoverError('PROXY_INVALID_PLAN', `cannot load the certificate ${cert} with key ${key}: ${problem}`, {
          hint: 'check that both files exist, are PEM, readable by cutover, and that the key matches the certificate',
        });
      }
      source.watch();
      this.sources.set(id, source);
    }
    source.users++;
    return source;
  }

  private release(source: CertificateSource): void {
    if (--source.users > 0) return;
    source.unwatch();
    this.sources.delete(`${source.cert}\n${source.key}`);
  }

  private releaseApp(app: string): void {
    for (const source of this.apps.get(app)?.values() ?? []) this.release(source);
  }

  private rebuild(): void {
    const byHost = new Map<string, CertificateSource>();
    for (const hosts of this.apps.values()) for (const [host, source] of hosts) if (!byHost.has(host)) byHost.set(host, source);
    this.byHost = byHost;
  }
}

/** An SNI name as a host name: lower case, without the trailing dot a client may send (as in a Host header). */
export function sniHostName(servername: string): string {
  const name = servername.toLowerCase();
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
