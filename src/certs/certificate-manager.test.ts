import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { CertificateIssuer } from './acme-issuer.js';
import { certPaths } from './cert-paths.js';
import { readCertState } from './cert-state-file.js';
import { startCertificateManager, type CertificateManager } from './certificate-manager.js';

const DAY = 24 * 60 * 60_000;

/** A self-signed certificate from openssl, valid `days` from now: what a CA would send, without a CA. */
function selfSigned(dir: string, host: string, days: number): { chainPem: string; keyPem: string } {
  const key = path.join(dir, `${host}.key`);
  const cert = path.join(dir, `${host}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${host}`,
      '-days',
      String(days),
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { chainPem: fs.readFileSync(cert, 'utf8'), keyPem: fs.readFileSync(key, 'utf8') };
}

/** An issuer that fails for the hosts in `failing` and counts every call. */
function fakeIssuer(dir: string, failing: Set<string>): CertificateIssuer & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async issue(host) {
      calls.push(host);
      if (failing.has(host)) throw new Error(`urn:ietf:params:acme:error:connection: ${host} did not answer`);
      return selfSigned(dir, host, 90);
    },
  };
}

describe('the certificate manager (fake issuer, fake clock)', () => {
  let dataDir: string;
  let scratch: string;
  let manager: CertificateManager | null = null;
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-certs-'));
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-certs-ca-'));
    lines.length = 0;
  });
  afterEach(async () => {
    await manager?.stop();
    manager = null;
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('obtains a certificate for each new host and writes files, modes and state', async () => {
    const issuer = fakeIssuer(scratch, new Set());
    manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com' }, hosts: ['a.example.com', 'b.example.com'], log, issuer });
    const records = await manager.ensure(['a.example.com', 'b.example.com']);
    assert.deepEqual(issuer.calls.sort(), ['a.example.com', 'b.example.com'], 'each host once: the second ensure found nothing due');
    assert.deepEqual(
      records.map((r) => [r.host, r.state, r.issuer]),
      [
        ['a.example.com', 'valid', 'a.example.com'],
        ['b.example.com', 'valid', 'b.example.com'],
      ],
    );
    const paths = certPaths(dataDir);
    for (const file of [paths.stateFile, path.join(paths.hosts, 'a.example.com', 'cert.pem'), path.join(paths.hosts, 'a.example.com', 'key.pem')]) {
      assert.equal(fs.statSync(file).mode & 0o777, 0o600, file);
    }
    for (const dir of [paths.root, paths.hosts, path.join(paths.hosts, 'a.example.com')]) assert.equal(fs.statSync(dir).mode & 0o777, 0o700, dir);
    assert.deepEqual(readCertState(paths).certificates, records);
    assert.deepEqual(fs.readdirSync(path.join(paths.hosts, 'a.example.com')).sort(), ['cert.pem', 'key.pem'], 'no temp file left behind');
  });

  it('renews 30 days before expiry, not sooner', async () => {
    let now = Date.now();
    const issuer = fakeIssuer(scratch, new Set());
    manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com' }, hosts: ['a.example.com'], log, issuer, now: () => now });
    const [first] = await manager.ensure(['a.example.com']);
    assert.ok(first?.notAfter);
    now = first.notAfter - 31 * DAY;
    await manager.ensure(['a.example.com']);
    assert.equal(issuer.calls.length, 1, 'not renewed 31 days before expiry');
    now = first.notAfter - 29 * DAY;
    const [renewed] = await manager.ensure(['a.example.com']);
    assert.equal(issuer.calls.length, 2, 'renewed 29 days before expiry');
    assert.equal(renewed?.state, 'valid');
    assert.ok(lines.some((l) => l.includes('renewing the certificate for a.example.com')));
  });

  it('backs off after a failure, records the error, keeps other hosts going, and retries when the backoff has passed', async () => {
    let now = Date.now();
    const failing = new Set(['bad.example.com']);
    const issuer = fakeIssuer(scratch, failing);
    manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com' }, hosts: [], log, issuer, now: () => now });
    const records = await manager.ensure(['bad.example.com', 'good.example.com', '*.wild.example.com']);
    const bad = records.find((r) => r.host === 'bad.example.com');
    assert.equal(bad?.state, 'failed');
    assert.match(bad?.lastError ?? '', /did not answer/);
    assert.equal(bad?.nextAttempt, now + 5 * 60_000);
    assert.equal(records.find((r) => r.host === 'good.example.com')?.state, 'valid');
    const wild = records.find((r) => r.host === '*.wild.example.com');
    assert.equal(wild?.state, 'failed');
    assert.match(wild?.lastError ?? '', /HTTP-01/);
    assert.ok(!issuer.calls.includes('*.wild.example.com'), 'a wildcard never reaches the CA');

    now += 4 * 60_000;
    await manager.ensure(['bad.example.com', 'good.example.com']);
    assert.equal(issuer.calls.filter((h) => h === 'bad.example.com').length, 1, 'no retry inside the backoff');
    now += 2 * 60_000;
    const second = (await manager.ensure(['bad.example.com', 'good.example.com'])).find((r) => r.host === 'bad.example.com');
    assert.equal(issuer.calls.filter((h) => h === 'bad.example.com').length, 2, 'retried once the backoff passed');
    assert.equal(second?.failures, 2);
    assert.equal(second?.nextAttempt, now + 10 * 60_000, 'the backoff doubled');

    failing.clear();
    now += 10 * 60_000;
    const fixed = (await manager.ensure(['bad.example.com'])).find((r) => r.host === 'bad.example.com');
    assert.equal(fixed?.state, 'valid');
    assert.equal(fixed?.lastError, null);
    assert.equal(fixed?.failures, 0);
  });

  it('wakes again after a pass that could not write its state, and renews once it can', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let now = Date.now();
      const issuer = fakeIssuer(scratch, new Set());
      manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com' }, hosts: ['a.example.com'], log, issuer, now: () => now });
      const [first] = await manager.ensure(['a.example.com']);
      assert.equal(issuer.calls.length, 1);
      // The state file cannot be replaced (a directory stands in its place) when the renewal comes due.
      const stateFile = certPaths(dataDir).stateFile;
      fs.rmSync(stateFile);
      fs.mkdirSync(stateFile);
      now = first!.notAfter! - 29 * DAY;
      mock.timers.tick(DAY);
      await waitUntil(() => lines.some((l) => l.startsWith('acme: certificate check failed')), 'the failed pass');
      assert.equal(issuer.calls.length, 1, 'no attempt without a state file to record it in');
      fs.rmSync(stateFile, { recursive: true });
      mock.timers.tick(60_000);
      await waitUntil(() => issuer.calls.length === 2, 'the renewal, a minute after the failed pass');
      await waitUntil(() => lines.filter((l) => l.includes('a.example.com has a certificate from')).length === 2, 'the renewal done');
      assert.equal(readCertState(certPaths(dataDir)).certificates[0]?.state, 'valid', 'the renewal recorded in the repaired state file');
    } finally {
      mock.timers.reset();
    }
  });

  it("retries a rate-limited host when the CA's Retry-After says, not after the first backoff", async () => {
    const now = Date.now();
    const retryAt = now + 3 * 60 * 60_000;
    const issuer: CertificateIssuer = {
      issue: () => Promise.reject(Object.assign(new Error('urn:ietf:params:acme:error:rateLimited: too many certificates'), { retryAt })),
    };
    manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com' }, hosts: [], log, issuer, now: () => now });
    const [record] = await manager.ensure(['a.example.com']);
    assert.equal(record?.state, 'failed');
    assert.match(record?.lastError ?? '', /rateLimited/);
    assert.equal(record?.nextAttempt, retryAt);
  });

  it('refuses a certificate that does not match its key: nothing reaches the proxy, the attempt fails', async () => {
    const other = selfSigned(scratch, 'other.example.com', 90);
    const issuer: CertificateIssuer = { issue: async (host) => ({ chainPem: selfSigned(scratch, host, 90).chainPem, keyPem: other.keyPem }) };
    manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com' }, hosts: [], log, issuer });
    const [record] = await manager.ensure(['a.example.com']);
    assert.equal(record?.state, 'failed');
    assert.match(record?.lastError ?? '', /does not match its key/);
    assert.equal(fs.existsSync(path.join(certPaths(dataDir).hosts, 'a.example.com', 'key.pem')), false);
  });

  it('keeps its state across a restart and finds certificates on disk when the state file is lost', async () => {
    const issuer = fakeIssuer(scratch, new Set());
    manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com' }, hosts: [], log, issuer });
    await manager.ensure(['a.example.com']);
    await manager.stop();
    fs.rmSync(certPaths(dataDir).stateFile);
    manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com' }, hosts: [], log, issuer });
    const [record] = await manager.ensure(['a.example.com']);
    assert.equal(record?.state, 'valid');
    assert.equal(issuer.calls.length, 1, 'the certificate on disk was used, not obtained again');
  });

  it('obtains every certificate again when the ACME directory changes', async () => {
    const issuer = fakeIssuer(scratch, new Set());
    manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com', directory: 'https://staging.example/dir' }, hosts: [], log, issuer });
    await manager.ensure(['a.example.com']);
    await manager.stop();
    manager = startCertificateManager({ dataDir, settings: { email: 'ops@example.com', directory: 'https://prod.example/dir' }, hosts: [], log, issuer });
    await manager.ensure(['a.example.com']);
    assert.equal(issuer.calls.length, 2);
    assert.equal(readCertState(certPaths(dataDir)).directory, 'https://prod.example/dir');
  });
});

describe('the certificate manager with the ACME issuer and no CA', () => {
  it('fails an attempt at once when the CA cannot be reached, and records it with its backoff', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-certs-noca-'));
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    server.close();
    await once(server, 'close');
    const now = Date.now();
    const manager = startCertificateManager({
      dataDir,
      settings: { email: 'ops@example.com', directory: `https://127.0.0.1:${port}/dir` },
      hosts: [],
      log: () => undefined,
      now: () => now,
    });
    try {
      const started = performance.now();
      const [record] = await manager.ensure(['a.example.com']);
      assert.ok(performance.now() - started < 5_000, 'no retries inside the attempt: the manager backs off instead');
      assert.equal(record?.state, 'failed');
      assert.match(record?.lastError ?? '', /ECONNREFUSED/);
      assert.equal(record?.nextAttempt, now + 5 * 60_000);
    } finally {
      await manager.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** Lets promises and I/O run (the clock is mocked, so setImmediate paces it) until `condition` holds, for at most 5 s. */
async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
