import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { CutoverError } from '../src/errors.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import type { TrafficPlan } from '../src/model/traffic-plan.js';
import { group, LOOPBACK, startUpstream, waitFor, type TestUpstream } from './helpers/proxy-fixtures.js';
import { certificateDir, makeCertificate, makeCertificateValidBetween, openssl, removeDir } from './helpers/test-certificates.js';

const tool = openssl();
const LONG_AGO = ['20200101000000Z', '20200102000000Z'] as const;

function plan(app: string, upstream: TestUpstream, hosts: string[], cert: string, key: string): TrafficPlan {
  return {
    app,
    version: 1,
    listen: { host: '', port: 0 },
    groups: [group(1, 1, [upstream.endpoint(`${app}-1`)])],
    frontDoor: { hosts, paths: ['/'], tls: { cert, key } },
  };
}

describe(
  'certificate files on the front door: refused when they cannot serve their hosts, kept when a replacement is bad',
  { skip: 'skip' in tool ? tool.skip : false },
  () => {
    let dir: string;
    let upstream: TestUpstream;
    let proxy: ProxyServer;
    let httpsPort: number;
    const logs: string[] = [];

    /** The serial number of the certificate the listener shows for `servername`. */
    const serialFor = (servername: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = tlsConnect({ host: LOOPBACK, port: httpsPort, servername, rejectUnauthorized: false }, () => {
          const serial = socket.getPeerCertificate().serialNumber;
          socket.destroy();
          resolve(serial);
        });
        socket.once('error', reject);
      });
    const serialOfFile = (pem: string): string => new X509Certificate(pem).serialNumber;
    /** Waits for a new log line about `file` saying `what`, after `from` lines. */
    const logged = (from: number, file: string, what: RegExp): Promise<void> =>
      waitFor(() => logs.slice(from).some((line) => line.includes(file) && what.test(line)), `a log line for ${file} matching ${what}`, 5_000);

    before(async () => {
      dir = certificateDir();
      upstream = await startUpstream((req, res) => res.end('ok'));
      proxy = new ProxyServer(
        { closeTimeoutMs: 2_000 },
        { http: null, https: { host: LOOPBACK, port: 0 }, redirectHttp: false, hsts: null, dataDir: null, certificatePollIntervalMs: 50 },
        (line) => logs.push(line),
      );
      const first = makeCertificate(dir, 'first', ['first.test']);
      await proxy.applyPlan(plan('first', upstream, ['first.test'], first.cert, first.key));
      await proxy.listenFrontDoor();
      httpsPort = proxy.frontDoorAddress('https')!.port;
    });

    after(async () => {
      await proxy?.close();
      await upstream?.close();
      if (dir) removeDir(dir);
    });

    it('refuses, at deploy, a file that does not name every host of the app, or that is not valid now', async () => {
      const other = makeCertificate(dir, 'other', ['other.test']);
      const expired = makeCertificateValidBetween(dir, 'expired', ['late.test'], ...LONG_AGO);
      const plainName = makeCertificate(dir, 'plain-name', ['a.wild.test']);
      for (const [hosts, cert, expected] of [
        [['web.test'], other, /for web\.test: the certificate does not cover web\.test \(its names: DNS:other\.test\)/],
        [['other.test', 'www.other.test'], other, /for www\.other\.test: the certificate does not cover www\.other\.test/],
        [['late.test'], expired, /for late\.test: the certificate expired on 2020-01-02T00:00:00\.000Z/],
        [['*.wild.test'], plainName, /does not cover \*\.wild\.test/],
      ] as const) {
        await assert.rejects(
          proxy.applyPlan(plan('refused', upstream, [...hosts], cert.cert, cert.key)),
          (error: unknown) => error instanceof CutoverError && error.code === 'PROXY_INVALID_PLAN' && expected.test(error.message),
          String(expected),
        );
      }
      // A wildcard certificate serves a wildcard host; the refused plans left nothing behind.
      const wildcard = makeCertificate(dir, 'wildcard', ['*.wild.test']);
      await proxy.applyPlan(plan('wild', upstream, ['*.wild.test'], wildcard.cert, wildcard.key));
      assert.equal(await serialFor('a.wild.test'), serialOfFile(wildcard.pem));
      await assert.rejects(serialFor('web.test'), 'no certificate for a refused plan’s host');
    });

    it('keeps the previous certificate when the replacement expired, names other hosts, or is deleted, and says why', async () => {
      const site = makeCertificate(dir, 'site', ['site.test']);
      await proxy.applyPlan(plan('site', upstream, ['site.test'], site.cert, site.key));
      const served = serialOfFile(site.pem);
      assert.equal(await serialFor('site.test'), served);
      const expired = makeCertificateValidBetween(dir, 'site-expired', ['site.test'], ...LONG_AGO);
      const elsewhere = makeCertificate(dir, 'site-elsewhere', ['elsewhere.test']);
      for (const [replacement, why] of [
        [expired, /kept the previous one: the certificate expired on 2020-01-02/],
        [elsewhere, /kept the previous one: the certificate does not cover site\.test/],
      ] as const) {
        const from = logs.length;
        // The key first: with the new key beside the old certificate, the pair is refused (mismatch) until the certificate follows.
        copyFileSync(replacement.key, site.key);
        copyFileSync(replacement.cert, site.cert);
        await logged(from, site.cert, why);
        assert.equal(await serialFor('site.test'), served);
      }
      const from = logs.length;
      rmSync(site.cert);
      await logged(from, site.cert, /kept the previous one: ENOENT/);
      assert.equal(await serialFor('site.test'), served);
    });

    it('follows a certbot-style symbolic link to the new files, and waits out a half-written file', async () => {
      const live = join(dir, 'live');
      mkdirSync(live);
      const v1 = makeCertificate(dir, 'v1', ['linked.test']);
      const v2 = makeCertificate(dir, 'v2', ['linked.test']);
      symlinkSync(v1.cert, join(live, 'cert.pem'));
      symlinkSync(v1.key, join(live, 'key.pem'));
      await proxy.applyPlan(plan('linked', upstream, ['linked.test'], join(live, 'cert.pem'), join(live, 'key.pem')));
      assert.equal(await serialFor('linked.test'), serialOfFile(v1.pem));
      // certbot renews by pointing the links at new files (each link replaced by a rename).
      let from = logs.length;
      for (const [file, target] of [
        ['key.pem', v2.key],
        ['cert.pem', v2.cert],
      ] as const) {
        symlinkSync(target, join(live, `${file}.next`));
        renameSync(join(live, `${file}.next`), join(live, file));
      }
      await logged(from, join(live, 'cert.pem'), /: reloaded$/);
      assert.equal(await serialFor('linked.test'), serialOfFile(v2.pem));

      // A file written in two steps: the first half is refused, the whole file is taken.
      const v3 = makeCertificate(dir, 'v3', ['linked.test']);
      const text = readFileSync(v3.cert, 'utf8');
      from = logs.length;
      copyFileSync(v3.key, v2.key);
      writeFileSync(v2.cert, text.slice(0, text.length >> 1));
      await logged(from, join(live, 'cert.pem'), /kept the previous one/);
      assert.equal(await serialFor('linked.test'), serialOfFile(v2.pem));
      from = logs.length;
      writeFileSync(v2.cert, text);
      await logged(from, join(live, 'cert.pem'), /: reloaded$/);
      assert.equal(await serialFor('linked.test'), serialOfFile(v3.pem));
    });
  },
);
