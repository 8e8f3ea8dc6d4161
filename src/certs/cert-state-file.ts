import fs from 'node:fs';
import { CutoverError } from '../errors.js';
import { CERT_STATES, type CertRecord } from './cert-record.js';
import type { CertPaths } from './cert-paths.js';
import { ensurePrivateDir, writePrivateFileAtomic } from './private-files.js';

/** `DATA_DIR/certs/state.json`: what `cutover certs` reads, with or without a daemon. */
export interface CertStateFile {
  version: 1;
  /** The ACME directory the certificates came from: when it changes, every certificate is obtained again from the new one. */
  directory: string | null;
  certificates: CertRecord[];
}

export const EMPTY_CERT_STATE: CertStateFile = { version: 1, directory: null, certificates: [] };

/**
 * Reads the state file; an empty state when there is none (no ACME host yet). A file that is not
 * the state cutover writes is refused with CERT_STATE_UNREADABLE rather than half read.
 */
export function readCertState(paths: CertPaths): CertStateFile {
  let text: string;
  try {
    text = fs.readFileSync(paths.stateFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_CERT_STATE;
    throw unreadable(paths, (error as Error).message, error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw unreadable(paths, 'it is not JSON', error);
  }
  if (!isObject(parsed) || parsed.version !== 1 || !Array.isArray(parsed.certificates)) throw unreadable(paths, 'it is not a version 1 state file');
  const directory = typeof parsed.directory === 'string' ? parsed.directory : null;
  const certificates = parsed.certificates.filter(isCertRecord);
  if (certificates.length !== parsed.certificates.length) throw unreadable(paths, 'a certificate record in it is malformed');
  return { version: 1, directory, certificates };
}

/** Writes the state file atomically (mode 0600, its folder 0700): `cutover certs` never reads half of it. */
export function writeCertState(paths: CertPaths, state: CertStateFile): void {
  ensurePrivateDir(paths.root);
  writePrivateFileAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

function unreadable(paths: CertPaths, why: string, cause?: unknown): CutoverError {
  return new CutoverError('CERT_STATE_UNREADABLE', `cannot read the certificate state ${paths.stateFile}: ${why}`, {
    hint: 'the daemon writes it again on its next certificate check; remove the file to start over (certificates on disk are found again)',
    cause,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isTime = (value: unknown): boolean => value === null || (typeof value === 'number' && Number.isFinite(value));
const isText = (value: unknown): boolean => value === null || typeof value === 'string';

function isCertRecord(value: unknown): value is CertRecord {
  return (
    isObject(value) &&
    typeof value.host === 'string' &&
    isText(value.issuer) &&
    isTime(value.notBefore) &&
    isTime(value.notAfter) &&
    (CERT_STATES as readonly unknown[]).includes(value.state) &&
    isText(value.lastError) &&
    isTime(value.nextAttempt) &&
    Number.isInteger(value.failures) &&
    (value.failures as number) >= 0
  );
}
