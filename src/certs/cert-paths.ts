import path from 'node:path';
import { checkAcmeHost } from './acme-host.js';

/** Where ACME keeps its files in the data dir. Every folder is 0700, every file 0600. */
export interface CertPaths {
  /** `DATA_DIR/certs` */
  root: string;
  /** `DATA_DIR/certs/state.json`: every host's record, read by `cutover certs` with the daemon down. */
  stateFile: string;
  /** `DATA_DIR/certs/acme-account-key.pem`: the ACME account's private key. */
  accountKey: string;
  /** `DATA_DIR/certs/acme`: one folder per host. */
  hosts: string;
  /** `DATA_DIR/certs/acme-challenges`: HTTP-01 answers, one file per token, served by the proxy's HTTP listener. */
  challenges: string;
}

export function certPaths(dataDir: string): CertPaths {
  const root = path.join(dataDir, 'certs');
  return {
    root,
    stateFile: path.join(root, 'state.json'),
    accountKey: path.join(root, 'acme-account-key.pem'),
    hosts: path.join(root, 'acme'),
    challenges: path.join(root, 'acme-challenges'),
  };
}

/**
 * `DATA_DIR/certs/acme/HOST/cert.pem` (full chain) and `key.pem`. `host` is a folder name here:
 * anything but a canonical name `checkAcmeHost` accepts is refused (callers check first; this is
 * the last line).
 */
export function hostCertFiles(paths: CertPaths, host: string): { dir: string; cert: string; key: string } {
  const check = checkAcmeHost(host);
  if (!check.isValid || check.host !== host) throw new Error(`not a host name a certificate folder may have: ${JSON.stringify(host.slice(0, 80))}`);
  const dir = path.join(paths.hosts, host);
  return { dir, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}
