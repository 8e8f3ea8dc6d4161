import type { FrontDoorTlsSpec } from '../model/app-spec.js';
import type { Store } from '../store/store.js';
import type { CertificateManager } from '../certs/index.js';

/** How often the hosts of apps with `tls: acme` are compared with those the manager looks after. */
const HOSTS_CHECK_MS = 5_000;

export interface AcmeCertificates {
  stop(): Promise<void>;
}

/**
 * The certificate manager, for a config with `proxy.tls.acme`: it gets certificates for the hosts
 * with `tls: acme` of every revision the front door serves or is about to (each app's stable
 * revision and both ends of its rollout under way), renews them, and writes them where the proxy
 * workers watch. A rollback serves an older revision's hosts again: they stay certified; a
 * deploy that failed leaves no host of its own behind. The ACME client is loaded only then (a
 * daemon without ACME never pays for it). Deploys add hosts: the list is read again from the
 * store every few seconds.
 */
export async function startAcmeCertificates(options: {
  dataDir: string;
  tls: FrontDoorTlsSpec | undefined;
  store: Store;
  log: (line: string) => void;
}): Promise<AcmeCertificates | null> {
  const acme = options.tls?.acme;
  if (!acme) return null;
  const { startCertificateManager } = await import('../certs/index.js');
  const hostsWanted = (): string[] => servedAcmeHosts(options.store);
  let asked = hostsWanted();
  const manager: CertificateManager = startCertificateManager({
    dataDir: options.dataDir,
    settings: { email: acme.email, directory: acme.directory, ...(acme.caFile ? { caFile: acme.caFile } : {}) },
    hosts: asked,
    log: options.log,
  });
  const ensure = (hosts: string[]): void => {
    asked = hosts;
    manager.ensure(hosts).catch((error: unknown) => options.log(`certificates: ${(error as Error).message}`));
  };
  ensure(asked);
  const timer = setInterval(() => {
    const hosts = hostsWanted();
    if (hosts.join(' ') !== asked.join(' ')) ensure(hosts);
  }, HOSTS_CHECK_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await manager.stop();
    },
  };
}

/** The hosts with `tls: acme` of the revisions served or about to be: each app's stable revision and both ends of its rollout under way; sorted. */
export function servedAcmeHosts(store: Pick<Store, 'listApps' | 'activeRollout' | 'getRevision'>): string[] {
  const hosts = new Set<string>();
  for (const { name, stableRevision } of store.listApps()) {
    const rollout = store.activeRollout(name);
    for (const revision of new Set([stableRevision, rollout?.fromRevision, rollout?.toRevision])) {
      if (typeof revision !== 'number') continue;
      const frontDoor = store.getRevision(name, revision)?.spec.frontDoor;
      if (frontDoor?.tls === 'acme') for (const host of frontDoor.hosts) hosts.add(host);
    }
  }
  return [...hosts].sort();
}
