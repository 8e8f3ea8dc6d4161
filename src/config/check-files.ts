import { readFileSync } from 'node:fs';
import type { CutoverConfig } from '../model/app-spec.js';
import type { Finding } from './finding.js';

/** A PEM certificate starts so (RFC 7468). */
const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/**
 * The files a config names that are read once, when the daemon starts, rather than watched:
 * each must be readable when the config is loaded, so a wrong path fails `validate` and `up`
 * instead of leaving a feature off. That is the ACME server's CA file (`proxy.tls.acme.caFile`),
 * which must hold a PEM certificate.
 */
export function checkReadFiles(config: CutoverConfig): Finding[] {
  const caFile = config.proxy.tls?.acme?.caFile;
  if (caFile === undefined || caFile === null) return [];
  const at: Finding['path'] = ['proxy', 'tls', 'acme', 'caFile'];
  const hint = "give the PEM file of your ACME server's root certificate, relative to the config file";
  let text: string;
  try {
    text = readFileSync(caFile, 'latin1');
  } catch (error) {
    return [{ path: at, at: 'value', message: `cannot read ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, hint }];
  }
  return text.includes(PEM_CERTIFICATE) ? [] : [{ path: at, at: 'value', message: `${caFile} holds no PEM certificate (${PEM_CERTIFICATE})`, hint }];
}
