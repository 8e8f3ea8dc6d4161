import { checkAcmeHost } from './acme-host.js';
import { certificateLost, pendingRecord, recordFromDisk, rejectedRecord, type CertificateFacts, type CertRecord } from './cert-record.js';

/**
 * The records for the hosts that want certificates now, from the previous records: a host kept
 * keeps its record (and its backoff: asking again does not retry sooner); a new host is pending,
 * or valid when its certificate is already in the data dir (`onDisk`, read only for valid names);
 * a host that cannot get one is `failed` with the reason and never tried; a host no longer
 * wanted loses its record (its files stay, unused). The result is sorted by host.
 *
 * @param onDisk the certificate in the data dir for a valid, canonical host, or null
 */
export function reconcileHosts(
  previous: readonly CertRecord[],
  hosts: readonly string[],
  onDisk: (host: string) => CertificateFacts | null,
  now: number,
): CertRecord[] {
  const byHost = new Map(previous.map((r) => [r.host, r]));
  const records = new Map<string, CertRecord>();
  for (const given of hosts) {
    const check = checkAcmeHost(given);
    if (!check.isValid) {
      records.set(given, rejectedRecord(given, check.reason));
      continue;
    }
    const host = check.host;
    if (records.has(host)) continue;
    const before = byHost.get(host);
    const found = onDisk(host);
    if (before === undefined || before.nextAttempt === null) {
      records.set(host, found ? recordFromDisk(host, found) : pendingRecord(host, now));
    } else if (before.notAfter !== null && found === null) {
      records.set(host, certificateLost(before, now));
    } else {
      records.set(host, before);
    }
  }
  return [...records.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/** Every record with a certificate becomes due now: the CA changed, so certificates from the old one are replaced. */
export function renewAllNow(records: readonly CertRecord[], now: number): CertRecord[] {
  return records.map((r) => (r.nextAttempt === null ? r : { ...r, nextAttempt: now }));
}
