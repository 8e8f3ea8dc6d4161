/**
 * Self-signed certificates for the front door's tests, made with openssl in a temp dir (not a
 * test file itself). Each certificate covers the given DNS names.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalProgram } from './external-program.js';

export interface TestCertificate {
  cert: string;
  key: string;
  /** The certificate's PEM text (a client trusts it as its CA). */
  pem: string;
}

/** openssl, or a skip message (an error under CUTOVER_REQUIRE_EXTERNAL=1). */
export function openssl(): { path: string } | { skip: string } {
  return externalProgram('openssl');
}

/** A temp dir for certificates; remove it with `rmSync(dir, { recursive: true })`. */
export function certificateDir(): string {
  return mkdtempSync(join(tmpdir(), 'cutover-certs-'));
}

/** `openssl req` arguments for a new P-256 key in `key` and a subject naming `names` (the first as CN, all as DNS names). */
function newKeyAndNames(key: string, names: readonly string[]): string[] {
  const san = `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`;
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-subj', `/CN=${names[0]}`, '-addext', san];
}

function runOpenssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** Writes `<name>.pem` and `<name>.key` in `dir`: a self-signed EC certificate for `names`, valid `days` days. */
export function makeCertificate(dir: string, name: string, names: readonly string[], days = 30): TestCertificate {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  runOpenssl(['req', '-x509', ...newKeyAndNames(key, names), '-out', cert, '-days', String(days)]);
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

/**
 * Writes `<name>.pem` and `<name>.key` in `dir`: a self-signed EC certificate for `names`, valid
 * only between `startDate` and `endDate` (openssl's `YYYYMMDDHHMMSSZ`), e.g. one that expired long
 * ago. `openssl req` cannot set past dates; `openssl ca -selfsign` can, with a throwaway database.
 */
export function makeCertificateValidBetween(dir: string, name: string, names: readonly string[], startDate: string, endDate: string): TestCertificate {
  const work = mkdtempSync(join(dir, `${name}-ca-`));
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const request = join(work, 'request.csr');
  writeFileSync(join(work, 'index.txt'), '');
  writeFileSync(join(work, 'serial'), '01\n');
  const config = join(work, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = ca_default',
      '[ca_default]',
      `database = ${join(work, 'index.txt')}`,
      `new_certs_dir = ${work}`,
      `serial = ${join(work, 'serial')}`,
      'default_md = sha256',
      'policy = policy_any',
      'copy_extensions = copy',
      'unique_subject = no',
      '[policy_any]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  runOpenssl(['req', '-new', ...newKeyAndNames(key, names), '-out', request]);
  runOpenssl([
    'ca',
    '-batch',
    '-selfsign',
    '-config',
    config,
    '-keyfile',
    key,
    '-in',
    request,
    '-out',
    cert,
    '-startdate',
    startDate,
    '-enddate',
    endDate,
    '-notext',
  ]);
  rmSync(work, { recursive: true, force: true });
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
