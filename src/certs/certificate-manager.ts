import { DEFAULT_ACME_DIRECTORY, type AcmeSettings } from './acme-settings.js';
import { createAcmeIssuer, retryAtOf, type CertificateIssuer } from './acme-issuer.js';
import { readHostCertificate, writeHostCertificate } from './cert-files.js';
import { certPaths, type CertPaths } from './cert-paths.js';
import { attemptFailed, attemptStarted, attemptSucceeded, type CertRecord } from './cert-record.js';
import { readCertState, writeCertState } from './cert-state-file.js';
import { reconcileHosts, renewAllNow } from './reconcile-hosts.js';
import { dueHosts, nextWakeDelayMs } from './renewal-plan.js';

/** A lastError longer than this is cut: it is shown in a table. */
const MAX_ERROR_LENGTH = 500;

export interface CertificateManagerOptions {
  /** The daemon's data dir: everything goes under `DATA_DIR/certs`. */
  dataDir: string;
  settings: AcmeSettings;
  /** The hosts that want ACME certificates at start (apps with `tls: acme`). */
  hosts: readonly string[];
  log: (line: string) => void;
  /** The clock, in ms since the epoch (tests move it to force a renewal). */
  now?: () => number;
  /** Obtains the certificates; the ACME issuer by default (tests of the manager's logic give a fake). */
  issuer?: CertificateIssuer;
}

/**
 * The certificates of the hosts that use ACME. Serial: one attempt at a time, in the order hosts
 * become due, so the CA is never hammered and the state file has one writer.
 */
export interface CertificateManager {
  /**
   * The hosts that want certificates now (replaces the list: a host left out is no longer renewed).
   * Obtains the certificates of new hosts and whatever else is due, and resolves with every record
   * once that is done; a failed host is recorded (`failed`, with its backoff), never thrown. It
   * rejects only when the data dir cannot be written (a full disk): the manager wakes again for the
   * hosts due (a minute later at the soonest) and tries again.
   */
  ensure(hosts: readonly string[]): Promise<CertRecord[]>;
  /** Every host's record, as `cutover certs --json` lists them. */
  status(): CertRecord[];
  /** No more attempts: clears the timer and resolves once the attempt under way (if any) has ended. */
  stop(): Promise<void>;
}

/**
 * Starts the certificate manager of a daemon: reads `DATA_DIR/certs/state.json`, obtains the
 * certificates due (new hosts at once), and wakes by itself for renewals (30 days before expiry)
 * and retries (backoff from 5 minutes to 6 hours). Call it once the shared HTTP listener serves
 * `/.well-known/acme-challenge/` from `DATA_DIR/certs/acme-challenges`, because the CA checks
 * there; call `ensure` with the new host list on each deploy; `stop` on shutdown.
 *
 * Certificates land at `DATA_DIR/certs/acme/HOST/cert.pem` (full chain) and `key.pem`, replaced
 * atomically, for the proxy workers to pick up.
 *
 * @example
 * const certs = startCertificateManager({ dataDir, settings: { email: 'ops@example.com' }, hosts: ['example.com'], log });
 * await certs.ensure(['example.com', 'www.example.com']); // after a deploy adds a host
 * await certs.stop();
 */
export function startCertificateManager(options: CertificateManagerOptions): CertificateManager {
  const { log } = options;
  const paths = certPaths(options.dataDir);
  const now = options.now ?? Date.now;
  const directory = options.settings.directory ?? DEFAULT_ACME_DIRECTORY;
  const issuer = options.issuer ?? createAcmeIssuer({ settings: options.settings, paths, log });
  let records = loadRecords(paths, directory, now(), log);
  let wanted: readonly string[] = options.hosts;
  let queue: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let isStopped = false;

  const save = (): void => writeCertState(paths, { version: 1, directory, certificates: records });
  const update = (host: string, change: (record: CertRecord) => CertRecord): void => {
    records = records.map((r) => (r.host === host ? change(r) : r));
    save();
  };

  const attempt = async (host: string): Promise<void> => {
    const before = records.find((r) => r.host === host);
    if (!before) return;
    update(host, attemptStarted);
    log(`acme: ${before.notAfter === null ? 'obtaining a certificate' : 'renewing the certificate'} for ${host}`);
    try {
      const { chainPem, keyPem } = await issuer.issue(host);
      const facts = writeHostCertificate(paths, host, chainPem, keyPem);
      update(host, (r) => attemptSucceeded(r, facts));
      log(`acme: ${host} has a certificate from ${facts.issuer}, valid until ${new Date(facts.notAfter).toISOString()}`);
    } catch (error) {
      const message = describeFailure(error);
      update(host, (r) => attemptFailed(r, message, now(), retryAtOf(error)));
      const next = records.find((r) => r.host === host)?.nextAttempt;
      log(`acme: no certificate for ${host}: ${message}; next attempt ${next ? `at ${new Date(next).toISOString()}` : 'never'}`);
    }
  };

  const pass = async (): Promise<CertRecord[]> => {
    try {
      records = reconcileHosts(records, wanted, (host) => readHostCertificate(paths, host), now());
      save();
      for (const host of dueHosts(records, now())) {
        if (isStopped) break;
        await attempt(host);
      }
      return status();
    } finally {
      // Also after a pass that could not write the state (a full disk): the next one tries again, a minute later at the soonest.
      schedule();
    }
  };

  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    const delayMs = nextWakeDelayMs(records, now());
    if (isStopped || delayMs === null) return;
    timer = setTimeout(() => void enqueue(pass).catch((error) => log(`acme: certificate check failed: ${describeFailure(error)}`)), delayMs);
    timer.unref();
  };

  // One pass at a time: an ensure during an attempt waits for it, then checks again.
  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };

  const status = (): CertRecord[] => records.map((r) => ({ ...r }));

  void enqueue(pass).catch((error) => log(`acme: certificate check failed: ${describeFailure(error)}`));

  return {
    ensure(hosts) {
      wanted = [...hosts];
      return enqueue(pass);
    },
    status,
    async stop() {
      isStopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await queue;
    },
  };
}

/** The records of the state file; a file that cannot be read is started over (certificates on disk are found again). */
function loadRecords(paths: CertPaths, directory: string, now: number, log: (line: string) => void): CertRecord[] {
  try {
    const state = readCertState(paths);
    if (state.directory !== null && state.directory !== directory) {
      log(`acme: the directory changed from ${state.directory} to ${directory}: every certificate is obtained again from the new one`);
      return renewAllNow(state.certificates, now);
    }
    return state.certificates;
  } catch (error) {
    log(`acme: ${describeFailure(error)}; starting over`);
    return [];
  }
}

function describeFailure(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim() || 'unknown error';
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
