import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import * as acme from 'acme-client';
import { DEFAULT_ACME_DIRECTORY, type AcmeSettings } from './acme-settings.js';
import type { CertPaths } from './cert-paths.js';
import { ChallengeFiles } from './challenge-files.js';
import { checkDirectory, plainTransportError } from './directory-check.js';
import { ensurePrivateDir, writePrivateFileAtomic } from './private-files.js';
import { retryAfterTime } from './retry-after.js';

/** What obtains one certificate. The manager depends on this, so its logic is tested without a CA. */
export interface CertificateIssuer {
  /**
   * A certificate for `host` (a checked DNS name): its full chain and its new private key, both
   * PEM. A failure the CA asked to wait after (429 or 503 with Retry-After) carries `retryAt`
   * (ms since the epoch, see `retryAtOf`).
   */
  issue(host: string): Promise<{ chainPem: string; keyPem: string }>;
}

/** When the CA said a failed attempt may be tried again (its Retry-After), or null. */
export function retryAtOf(error: unknown): number | null {
  const retryAt = (error as { retryAt?: unknown } | null)?.retryAt;
  return typeof retryAt === 'number' ? retryAt : null;
}

/** No single request to the CA may hang the manager: each gets this long. */
const ACME_REQUEST_TIMEOUT_MS = 30_000;
/** Polls for an order or challenge status: from 1 s, doubling to 10 s, 10 times (the library's default starts at 5 s). */
const STATUS_POLL = { backoffAttempts: 10, backoffMin: 1_000, backoffMax: 10_000 };

/**
 * Obtains certificates from an ACME CA with `acme-client` (RFC 8555 is the library's, not ours),
 * answering HTTP-01 only: the answer is a file in `DATA_DIR/certs/acme-challenges` that the
 * proxy serves on the shared HTTP listener, removed once the CA has looked. The account key is
 * made on first use and kept in the data dir (0600). Registering the account agrees to the CA's
 * terms of service, as every ACME client run unattended does.
 *
 * cutover does not fetch its own challenge URL before asking the CA to (the library's "verify"):
 * the host may resolve elsewhere from this machine, and a failed validation is handled by the
 * manager's backoff either way.
 */
export function createAcmeIssuer(options: { settings: AcmeSettings; paths: CertPaths; log: (line: string) => void }): CertificateIssuer {
  const { settings, paths, log } = options;
  const directoryUrl = settings.directory ?? DEFAULT_ACME_DIRECTORY;
  installInterceptor();
  const agent = settings.caFile ? new https.Agent({ ca: [...tls.rootCertificates, fs.readFileSync(settings.caFile, 'utf8')] }) : undefined;
  if (agent) agentsByOrigin.set(new URL(directoryUrl).origin, agent);
  const challenges = new ChallengeFiles(paths.challenges);
  let client: acme.Client | null = null;

  const clientOnce = async (): Promise<acme.Client> => {
    client ??= new acme.Client({ directoryUrl, accountKey: await accountKey(paths, log), ...STATUS_POLL });
    return client;
  };

  const order = (acmeClient: acme.Client, host: string, csr: Buffer): Promise<string> =>
    acmeClient.auto({
      csr,
      email: settings.email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'http-01')
          throw new Error(`the CA offers no HTTP-01 challenge for ${host} (only ${challenge.type}), and cutover answers HTTP-01 only`);
        challenges.write(challenge.token, keyAuthorization);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        if (challenge.type === 'http-01') challenges.remove(challenge.token);
      },
    });

  return {
    async issue(host) {
      await checkDirectory(directoryUrl, agent, ACME_REQUEST_TIMEOUT_MS);
      const [key, csr] = await acme.crypto.createCsr({ commonName: host, altNames: [host] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      const origin = originOf(directoryUrl);
      retryAtByOrigin.delete(origin);
      try {
        return { chainPem: await order(await clientOnce(), host, csr), keyPem: key.toString() };
      } catch (error) {
        const failure = plainTransportError(error, directoryUrl);
        const retryAt = retryAtByOrigin.get(origin);
        if (retryAt !== undefined && failure instanceof Error) Object.assign(failure, { retryAt });
        throw failure;
      }
    },
  };
}

/** The account key in the data dir, made (ECDSA P-256, 0600) when absent. */
async function accountKey(paths: CertPaths, log: (line: string) => void): Promise<string> {
  try {
    return fs.readFileSync(paths.accountKey, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  ensurePrivateDir(paths.root);
  const key = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
  writePrivateFileAtomic(paths.accountKey, key);
  log(`acme: made a new account key in ${paths.accountKey}`);
  return key;
}

/** HTTPS agents by origin for CAs whose TLS certificate is trusted through `caFile`. */
const agentsByOrigin = new Map<string, https.Agent>();
let isInterceptorInstalled = false;
/** The latest Retry-After of a CA (by origin) that answered 429 or 503, as a time; one attempt runs at a time. */
const retryAtByOrigin = new Map<string, number>();

/**
 * acme-client sends every request through one shared axios instance, so a private CA is trusted
 * per origin there: requests to the directory's origin (RFC 8555 servers keep every URL on it)
 * get an agent trusting `caFile` on top of the system's roots. Every request also gets a timeout.
 */
function installInterceptor(): void {
  if (isInterceptorInstalled) return;
  isInterceptorInstalled = true;
  // The library retries a refused connection, a 5xx or a 429 itself, sleeping as long as the CA's
  // Retry-After says (hours, for a rate limit): that would hold the manager's one queue and its
  // stop(). A failed request fails the attempt instead, and the manager's backoff decides when
  // to try again. (Its retries of a bad nonce are separate and stay.)
  (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number } }).acmeSettings!.retryMaxAttempts = 0;
  acme.axios.interceptors.request.use((config) => {
    config.timeout ||= ACME_REQUEST_TIMEOUT_MS;
    const agent = config.url ? agentsByOrigin.get(originOf(config.url)) : undefined;
    if (agent) config.httpsAgent = agent;
    return config;
  });
  // The library's errors keep the CA's problem text but not its headers: a rate limit's Retry-After is noted here.
  acme.axios.interceptors.response.use((response) => {
    const retryAt = response.status === 429 || response.status === 503 ? retryAfterTime(headerText(response.headers['retry-after']), Date.now()) : null;
    if (retryAt !== null && response.config.url) retryAtByOrigin.set(originOf(response.config.url), retryAt);
    return response;
  });
}

function headerText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
