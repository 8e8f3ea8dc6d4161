import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startCertificateManager, type CertificateManager } from '../src/certs/certificate-manager.js';
import type { CertRecord } from '../src/certs/cert-record.js';
import { runCli } from './helpers/daemon-fixture.js';
import { pebbleSkip, TestPebble } from './helpers/pebble.js';

const DAY = 24 * 60 * 60_000;
const HOSTS = ['a.example.test', 'b.example.test'];
const BROKEN = 'broken.example.test';

/**
 * Issue 19: certificates from a real ACME server (Debian's pebble), validated over HTTP-01.
 * The challenge answers are served by a tiny responder reading DATA_DIR/certs/acme-challenges,
 * standing in for the proxy's shared HTTP listener; it answers 404 for BROKEN.
 */
describe('ACME certificates from pebble over HTTP-01 (issue 19)', { skip: pebbleSkip }, () => {
  let dir: string;
  let dataDir: string;
  let responder: http.Server;
  let pebble: TestPebble | null = null;
  let manager: CertificateManager | null = null;
  let fakeNow: number | null = null;
  const served: string[] = [];
  const logLines: string[] = [];

  const certFile = (host: string, name: 'cert.pem' | 'key.pem'): string => path.join(dataDir, 'certs', 'acme', host, name);
  const challengeDir = (): string => path.join(dataDir, 'certs', 'acme-challenges');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-acme-'));
    dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir, { mode: 0o700 });
    responder = http.createServer((request, response) => {
      const host = (request.headers.host ?? '').replace(/:\d+$/, '');
      const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]{1,128})$/.exec(request.url ?? '')?.[1];
      const file = token ? path.join(challengeDir(), token) : null;
      if (host === BROKEN || !file || !fs.existsSync(file)) {
        response.writeHead(404).end();
        return;
      }
      served.push(host);
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(fs.readFileSync(file));
    });
    responder.listen(0, '127.0.0.1');
    await once(responder, 'listening');
    pebble = await TestPebble.start(dir, (responder.address() as AddressInfo).port);
    manager = startCertificateManager({
      dataDir,
      settings: { email: 'ops@example.test', directory: pebble.directory, caFile: pebble.caFile },
      hosts: [],
      log: (line) => void logLines.push(line),
      now: () => fakeNow ?? Date.now(),
    });
  });

  after(async () => {
    await manager?.stop();
    responder?.close();
    await pebble?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  let first: CertRecord[] = [];

  it('obtains a certificate for each of two hosts: full chain and key, 0600 in 0700 folders, challenges answered and removed', async () => {
    first = await manager!.ensure(HOSTS);
    assert.deepEqual([...new Set(served)].sort(), HOSTS, `pebble fetched each host's challenge from the responder (log: ${logLines.join(' | ')})`);
    assert.deepEqual(
      first.map((r) => [r.host, r.state, r.lastError]),
      HOSTS.map((h) => [h, 'valid', null]),
    );
    for (const record of first) {
      assert.match(record.issuer ?? '', /^Pebble Intermediate CA/);
      assert.ok(record.notAfter! - Date.now() > 89 * DAY, 'a 90-day certificate');
      assert.equal(record.nextAttempt, record.notAfter! - 30 * DAY, 'renewed 30 days before expiry');
    }
    for (const host of HOSTS) {
      for (const name of ['cert.pem', 'key.pem'] as const) assert.equal(fs.statSync(certFile(host, name)).mode & 0o777, 0o600, `${host}/${name}`);
      assert.equal(fs.statSync(path.dirname(certFile(host, 'cert.pem'))).mode & 0o777, 0o700);
      assert.deepEqual(fs.readdirSync(path.dirname(certFile(host, 'cert.pem'))).sort(), ['cert.pem', 'key.pem'], 'no temp file left');
      const chain = fs.readFileSync(certFile(host, 'cert.pem'), 'utf8').match(/-----BEGIN CERTIFICATE-----/g) ?? [];
      assert.ok(chain.length >= 2, 'cert.pem holds the full chain (leaf and intermediate)');
    }
    for (const file of ['state.json', 'acme-account-key.pem']) assert.equal(fs.statSync(path.join(dataDir, 'certs', file)).mode & 0o777, 0o600, file);
    for (const folder of ['', 'acme', 'acme-challenges']) assert.equal(fs.statSync(path.join(dataDir, 'certs', folder)).mode & 0o777, 0o700, `certs/${folder}`);
    assert.deepEqual(fs.readdirSync(challengeDir()), [], 'challenge answers removed after validation');
  });

  it('serves TLS with the certificate obtained: a client trusting only the root of pebble accepts it for its host', async () => {
    const root = await pebble!.root();
    const server = https.createServer({
      cert: fs.readFileSync(certFile('a.example.test', 'cert.pem')),
      key: fs.readFileSync(certFile('a.example.test', 'key.pem')),
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'a.example.test', ca: root });
      await once(socket, 'secureConnect');
      assert.equal(socket.authorized, true, String(socket.authorizationError));
      assert.equal(socket.getPeerCertificate().subjectaltname, 'DNS:a.example.test');
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it('renews a certificate within 30 days of its expiry (fake clock), validated again, with a new key', async () => {
    const before = first.find((r) => r.host === 'a.example.test')!;
    const oldCert = new crypto.X509Certificate(fs.readFileSync(certFile('a.example.test', 'cert.pem')));
    const oldKey = fs.readFileSync(certFile('a.example.test', 'key.pem'), 'utf8');
    const servedBefore = served.length;
    fakeNow = before.notAfter! - 31 * DAY;
    const notYet = await manager!.ensure(HOSTS);
    assert.equal(served.length, servedBefore, 'nothing renewed 31 days before expiry');
    assert.deepEqual(notYet, first);
    try {
      fakeNow = before.notAfter! - 29 * DAY;
      const renewed = await manager!.ensure(HOSTS);
      assert.ok(served.length >= servedBefore + 2, 'pebble validated both hosts again');
      const after = renewed.find((r) => r.host === 'a.example.test')!;
      assert.equal(after.state, 'valid');
      const newCert = new crypto.X509Certificate(fs.readFileSync(certFile('a.example.test', 'cert.pem')));
      assert.notEqual(newCert.serialNumber, oldCert.serialNumber, 'a new certificate');
      assert.notEqual(fs.readFileSync(certFile('a.example.test', 'key.pem'), 'utf8'), oldKey, 'with a new key');
      assert.ok(newCert.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(certFile('a.example.test', 'key.pem')))), 'the pair on disk matches');
      assert.ok(logLines.some((l) => l.includes('renewing the certificate for a.example.test')));
    } finally {
      fakeNow = null;
    }
  });

  it('keeps its ACME account across a restart: the account key is made once and reused', async () => {
    const keyFile = path.join(dataDir, 'certs', 'acme-account-key.pem');
    const key = fs.readFileSync(keyFile, 'utf8');
    await manager!.stop();
    const servedBefore = served.length;
    fakeNow = Math.max(...first.map((r) => r.notAfter!)) - 29 * DAY;
    try {
      manager = startCertificateManager({
        dataDir,
        settings: { email: 'ops@example.test', directory: pebble!.directory, caFile: pebble!.caFile },
        hosts: HOSTS,
        log: (line) => void logLines.push(line),
        now: () => fakeNow ?? Date.now(),
      });
      const renewed = await manager.ensure(HOSTS);
      assert.ok(served.length > servedBefore, 'precondition: the restarted manager talked to the CA (a renewal was validated)');
      assert.ok(
        renewed.every((r) => r.state === 'valid'),
        JSON.stringify(renewed),
      );
    } finally {
      fakeNow = null;
    }
    assert.equal(fs.readFileSync(keyFile, 'utf8'), key, 'the same account key');
    assert.equal(logLines.filter((l) => l.includes('made a new account key')).length, 1);
  });

  it('records a failed issuance with its backoff and error, shown by cutover certs, and keeps the other hosts', async (t) => {
    fakeNow = Date.now();
    try {
      const records = await manager!.ensure([...HOSTS, BROKEN]);
      const broken = records.find((r) => r.host === BROKEN)!;
      assert.equal(broken.state, 'failed');
      assert.equal(broken.failures, 1);
      assert.equal(broken.nextAttempt, fakeNow + 5 * 60_000, 'first retry after 5 minutes');
      assert.match(broken.lastError ?? '', /404|unauthorized/i);
      assert.equal(fs.existsSync(certFile(BROKEN, 'cert.pem')), false);
      assert.deepEqual(fs.readdirSync(challengeDir()), [], 'the failed challenge answer was removed too');
      assert.deepEqual(
        records.filter((r) => r.host !== BROKEN).map((r) => r.state),
        ['valid', 'valid'],
      );
    } finally {
      fakeNow = null;
    }

    const listed = await runCli(['certs', '--data-dir', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    const line = listed.stdout.split('\n').find((l) => l.startsWith(BROKEN)) ?? '';
    t.diagnostic(listed.stdout);
    assert.match(line, /failed/);
    assert.match(line, /404|unauthorized/i, 'lastError shown');
    assert.match(listed.stdout, /a\.example\.test\s+valid\s+Pebble Intermediate CA/);
  });

  it('refuses a CA whose TLS certificate is not trusted (no caFile), and says so in lastError', async () => {
    const otherDataDir = fs.mkdtempSync(path.join(dir, 'untrusted-'));
    const untrusting = startCertificateManager({
      dataDir: otherDataDir,
      settings: { email: 'ops@example.test', directory: pebble!.directory },
      hosts: [],
      log: () => undefined,
    });
    try {
      const [record] = await untrusting.ensure(['c.example.test']);
      assert.equal(record?.state, 'failed');
      assert.match(record?.lastError ?? '', /cannot reach the ACME directory .*certificate/);
      assert.equal(fs.existsSync(path.join(otherDataDir, 'certs', 'acme-account-key.pem')), false, 'nothing was sent to an untrusted CA');
    } finally {
      await untrusting.stop();
    }
  });

  it('prints cutover certs --json in the contract shape, from the data dir alone', async () => {
    const result = await runCli(['certs', '--json', '--data-dir', dataDir]);
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as { directory: string; certificates: Record<string, unknown>[] };
    assert.equal(parsed.directory, pebble!.directory);
    assert.deepEqual(
      parsed.certificates.map((c) => c.host),
      [...HOSTS, BROKEN].sort(),
    );
    for (const record of parsed.certificates) {
      assert.deepEqual(Object.keys(record).sort(), ['failures', 'host', 'issuer', 'lastError', 'nextAttempt', 'notAfter', 'notBefore', 'state']);
      assert.ok(['valid', 'pending', 'renewing', 'failed'].includes(record.state as string));
    }
  });
});
