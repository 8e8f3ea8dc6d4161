import crypto from 'node:crypto';
import fs from 'node:fs';
import { hostCertFiles, type CertPaths } from './cert-paths.js';
import type { CertificateFacts } from './cert-record.js';
import { ensurePrivateDir, writePrivateFileAtomic } from './private-files.js';

/**
 * Issuer and validity of the first certificate of a PEM chain (the host's own).
 *
 * @example certificateFacts(pem) // { issuer: 'R11', notBefore: 1764000000000, notAfter: 1771776000000 }
 */
export function certificateFacts(chainPem: string): CertificateFacts {
  const leaf = new crypto.X509Certificate(chainPem);
  const issuerName = leaf.issuer.split('\n').find((part) => part.startsWith('CN='));
  return {
    issuer: issuerName ? issuerName.slice('CN='.length) : leaf.issuer.replace(/\n/g, ', '),
    notBefore: Date.parse(leaf.validFrom),
    notAfter: Date.parse(leaf.validTo),
  };
}

/** The certificate in the data dir for `host` (a checked name), or null when there is none or it cannot be read. */
export function readHostCertificate(paths: CertPaths, host: string): CertificateFacts | null {
  const files = hostCertFiles(paths, host);
  try {
    if (!fs.existsSync(files.key)) return null;
    return certificateFacts(fs.readFileSync(files.cert, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Puts a new certificate (full chain) and its key in place for `host` (a checked name), each
 * replaced atomically, mode 0600 in a 0700 folder. The pair is checked first, so a key that does
 * not match never reaches the proxy. The key goes first and the certificate last: a worker that
 * reloads on the certificate's change finds the new key already there.
 */
export function writeHostCertificate(paths: CertPaths, host: string, chainPem: string, keyPem: string): CertificateFacts {
  const leaf = new crypto.X509Certificate(chainPem);
  if (!leaf.checkPrivateKey(crypto.createPrivateKey(keyPem))) throw new Error(`the certificate the CA sent for ${host} does not match its key`);
  const files = hostCertFiles(paths, host);
  ensurePrivateDir(paths.root);
  ensurePrivateDir(paths.hosts);
  ensurePrivateDir(files.dir);
  writePrivateFileAtomic(files.key, keyPem);
  writePrivateFileAtomic(files.cert, chainPem);
  return certificateFacts(chainPem);
}
