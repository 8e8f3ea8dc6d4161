import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
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
  /** The loaded certificate (the first of its file), for checking the hosts it must cover. */
  certificate: X509Certificate | undefined = undefined;
  users = 0;
  /** The hosts (or wildcard patterns) served with it, each with how many apps use it for that host. */
  readonly hosts = new Map<string, number>();
  private readonly onChange = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) this.reload();
  };

  constructor(
    readonly cert: string,
    readonly key: string,
    private readonly log: (line: string) => void,
    private readonly pollIntervalMs: number,
    /** A file the config names (not one the ACME client wrote): it must also be valid now and cover its hosts. */
    private readonly isUserFile: boolean,
  ) {}

  /**
   * Reads both files; on success swaps the context in (new handshakes use it, open connections
   * keep theirs). A user's file that expired, or that does not cover every host served with it,
   * is refused like one that cannot be read: the previous certificate stays, and the log says why.
   */
  reload(): string | undefined {
    let context: SecureContext;
    let certificate: X509Certificate;
    try {
      const certPem = readFileSync(this.cert);
      context = createSecureContext({ cert: certPem, key: readFileSync(this.key), minVersion: 'TLSv1.2' });
      certificate = new X509Certificate(certPem);
      const problem = this.isUserFile ? unfitness(certificate, [...this.hosts.keys()]) : undefined;
      if (problem !== undefined) throw new Error(problem);
    } catch (error) {
      const why = (error as Error).message;
      this.log(`certificate ${this.cert}: ${this.context === undefined ? 'not loaded' : 'kept the previous one'}: ${why}`);
      return why;
    }
    const isFirst = this.context === undefined;
    this.context = context;
    this.certificate = certificate;
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
    try {
      if (route.tls !== false) {
        for (const host of route.hosts) {
          const files = route.tls === 'acme' ? this.acmeFiles(host) : route.tls;
          const source = this.acquire(files.cert, files.key, route.tls !== 'acme', host);
          hosts.set(host, source);
        }
      }
    } catch (error) {
      for (const [host, source] of hosts) this.release(source, host);
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

  /** The source of a file pair for `host`, loaded (and watched) on first use. A user's file (`isRequired`) that cannot serve `host` throws PROXY_INVALID_PLAN. */
  private acquire(cert: string, key: string, isRequired: boolean, host: string): CertificateSource {
    const id = `${cert}\n${key}`;
    const existing = this.sources.get(id);
    const source = existing ?? new CertificateSource(cert, key, this.log, this.pollIntervalMs, isRequired);
    let problem: string | undefined;
    if (existing === undefined) {
      // The first load checks the file against this host.
      source.hosts.set(host, 0);
      problem = source.reload();
    } else if (isRequired && source.certificate !== undefined) {
      problem = unfitness(source.certificate, [host]);
    }
    if (problem !== undefined && isRequired) {
      throw new CutoverError('PROXY_INVALID_PLAN', `cannot load the certificate ${cert} with key ${key} for ${host}: ${problem}`, {
        hint: 'check that both files exist, are PEM, readable by cutover, that the key matches the certificate, and that the certificate is valid now for every host of the app',
      });
    }
    if (existing === undefined) {
      source.watch();
      this.sources.set(id, source);
    }
    source.hosts.set(host, (source.hosts.get(host) ?? 0) + 1);
    source.users++;
    return source;
  }

  private release(source: CertificateSource, host: string): void {
    const count = (source.hosts.get(host) ?? 1) - 1;
    if (count > 0) source.hosts.set(host, count);
    else source.hosts.delete(host);
    if (--source.users > 0) return;
    source.unwatch();
    this.sources.delete(`${source.cert}\n${source.key}`);
  }

  private releaseApp(app: string): void {
    for (const [host, source] of this.apps.get(app) ?? []) this.release(source, host);
  }

  private rebuild(): void {
    const byHost = new Map<string, CertificateSource>();
    for (const hosts of this.apps.values()) for (const [host, source] of hosts) if (!byHost.has(host)) byHost.set(host, source);
    this.byHost = byHost;
  }
}

/**
 * Why `certificate` cannot serve `hosts` now, or undefined: it expired (or is not valid yet), or
 * a host is not among its names (a wildcard pattern `*.example.com` needs a wildcard certificate).
 */
function unfitness(certificate: X509Certificate, hosts: readonly string[]): string | undefined {
  const now = Date.now();
  if (Date.parse(certificate.validTo) <= now) return `the certificate expired on ${new Date(certificate.validTo).toISOString()}`;
  if (Date.parse(certificate.validFrom) > now) return `the certificate is not valid before ${new Date(certificate.validFrom).toISOString()}`;
  for (const host of hosts) {
    // Any one name under a wildcard pattern stands for all of them: only a wildcard certificate covers it.
    const name = host.startsWith('*.') ? `cutover-name-check${host.slice(1)}` : host;
    if (certificate.checkHost(name) === undefined)
      return `the certificate does not cover ${host} (its names: ${certificate.subjectAltName ?? certificate.subject})`;
  }
  return undefined;
}

/** An SNI name as a host name: lower case, without the trailing dot a client may send (as in a Host header). */
export function sniHostName(servername: string): string {
  const name = servername.toLowerCase();
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
