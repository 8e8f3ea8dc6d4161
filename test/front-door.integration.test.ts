import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import type { TrafficPlan } from '../src/model/traffic-plan.js';
import { group, LOOPBACK, send, startUpstream, waitFor, type TestUpstream } from './helpers/proxy-fixtures.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from './helpers/test-certificates.js';
import { h2Get, h2Session, httpsGet } from './helpers/tls-clients.js';

const tool = openssl();

/** An upstream that answers its name and what it saw of the forwarding headers. */
function echoUpstream(name: string): Promise<TestUpstream> {
  return startUpstream((req, res) => {
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ name, proto: req.headers['x-forwarded-proto'], host: req.headers.host, path: req.url })));
  });
}

function frontPlan(app: string, upstream: TestUpstream, frontDoor: TrafficPlan['frontDoor'], version = 1): TrafficPlan {
  return { app, version, listen: { host: '', port: 0 }, groups: [group(1, 1, [upstream.endpoint(`${app}-1`)])], frontDoor };
}

describe('the front door: shared listeners, hosts, paths, TLS by SNI, HTTP/2 (issue 19)', { skip: 'skip' in tool ? tool.skip : false }, () => {
  let dir: string;
  let site: TestCertificate;
  let api: TestCertificate;
  let web: TestUpstream;
  let apiUp: TestUpstream;
  let plain: TestUpstream;
  let proxy: ProxyServer;
  let httpsPort: number;
  let httpPort: number;
  const logs: string[] = [];

  before(async () => {
    dir = certificateDir();
    site = makeCertificate(dir, 'site', ['example.test', 'www.example.test']);
    // The api app serves example.test/v1 too: its certificate must name that host (the proxy refuses one that does not).
    api = makeCertificate(dir, 'api', ['*.api.example.test', 'example.test']);
    mkdirSync(join(dir, 'data', 'certs', 'acme-challenges'), { recursive: true });
    writeFileSync(join(dir, 'data', 'certs', 'acme-challenges', 'tok_EN-1'), 'tok_EN-1.thumbprint');
    [web, apiUp, plain] = await Promise.all([echoUpstream('web'), echoUpstream('api'), echoUpstream('plain')]);
    proxy = new ProxyServer(
      { closeTimeoutMs: 2_000 },
      {
        http: { host: LOOPBACK, port: 0 },
        https: { host: LOOPBACK, port: 0 },
        redirectHttp: true,
        hsts: 'max-age=60',
        dataDir: join(dir, 'data'),
        certificatePollIntervalMs: 50,
      },
      (line) => logs.push(line),
    );
    await proxy.applyPlan(frontPlan('web', web, { hosts: ['example.test', 'www.example.test'], paths: ['/'], tls: { cert: site.cert, key: site.key } }));
    await proxy.applyPlan(frontPlan('api', apiUp, { hosts: ['*.api.example.test', 'example.test'], paths: ['/v1'], tls: { cert: api.cert, key: api.key } }));
    await proxy.applyPlan(frontPlan('plain', plain, { hosts: ['plain.test'], paths: ['/'], tls: false }));
    await proxy.listenFrontDoor();
    httpsPort = proxy.frontDoorAddress('https')!.port;
    httpPort = proxy.frontDoorAddress('http')!.port;
  });

  after(async () => {
    await proxy?.close();
    await Promise.all([web, apiUp, plain].map((u) => u?.close()));
    if (dir) removeDir(dir);
  });

  it('routes HTTP/2 by host, then the longest path prefix, with X-Forwarded-Proto https and HSTS', async () => {
    const session = await h2Session(httpsPort, 'example.test', [site.pem]);
    try {
      const root = await h2Get(session, '/hello');
      assert.equal(root.status, 200);
      assert.deepEqual(JSON.parse(root.text), { name: 'web', proto: 'https', host: 'example.test:' + httpsPort, path: '/hello' });
      assert.equal(root.headers['strict-transport-security'], 'max-age=60');
      const v1 = await h2Get(session, '/v1/users?x=1');
      assert.equal(JSON.parse(v1.text).name, 'api');
      const post = await h2Get(session, '/echo', {}, 'body');
      assert.equal(post.status, 200);
    } finally {
      session.close();
    }
    const wildcard = await httpsGet(httpsPort, 'eu.api.example.test', [api.pem], { path: '/v1/x' });
    assert.equal(JSON.parse(wildcard.text).name, 'api');
    assert.equal(JSON.parse(wildcard.text).proto, 'https');
  });

  it('picks the certificate by SNI and refuses a handshake for an unknown name or without SNI', async () => {
    const seen: PeerCertificate[] = [];
    await httpsGet(httpsPort, 'www.example.test', [site.pem], { onCertificate: (c) => seen.push(c) });
    await httpsGet(httpsPort, 'a.api.example.test', [api.pem], { path: '/v1', onCertificate: (c) => seen.push(c) });
    assert.match(seen[0]!.subjectaltname ?? '', /DNS:example\.test/);
    assert.match(seen[1]!.subjectaltname ?? '', /\*\.api\.example\.test/);
    for (const servername of ['unknown.test', undefined]) {
      const failure = await new Promise<Error | undefined>((resolve) => {
        const socket = tlsConnect({ host: LOOPBACK, port: httpsPort, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => {
          socket.destroy();
          resolve(undefined);
        });
        socket.once('error', resolve);
      });
      assert.ok(failure instanceof Error, `a handshake for ${servername ?? 'no SNI'} must fail`);
    }
  });

  it('answers 421 on TLS and 404 on plain HTTP for a host no app serves, counted, never reaching an app', async () => {
    const before = web.count() + apiUp.count() + plain.count();
    const countBefore = proxy.measurements().unknownHost ?? 0;
    const misdirected = await httpsGet(httpsPort, 'example.test', [site.pem], { host: 'other.test' });
    assert.equal(misdirected.status, 421);
    // Host served by another certificate than the SNI name's: 421 too.
    const crossed = await httpsGet(httpsPort, 'example.test', [site.pem], { host: 'a.api.example.test', path: '/v1' });
    assert.equal(crossed.status, 421);
    const unknown = await send(httpPort, { headers: { host: 'other.test' } });
    assert.equal(unknown.status, 404);
    assert.equal(web.count() + apiUp.count() + plain.count(), before);
    assert.equal(proxy.measurements().unknownHost, countBefore + 3);
  });

  it('redirects plain requests for a TLS host with 308, serves tls: false hosts plainly, and answers ACME challenges', async () => {
    const redirect = await send(httpPort, { path: '/a?b=1', headers: { host: 'example.test' }, method: 'POST', body: 'x' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, `https://example.test:${httpsPort}/a?b=1`);
    const served = await send(httpPort, { headers: { host: 'plain.test' } });
    assert.deepEqual(JSON.parse(served.text).proto, 'http');
    const challenge = await send(httpPort, { path: '/.well-known/acme-challenge/tok_EN-1', headers: { host: 'example.test' } });
    assert.equal(challenge.status, 200);
    assert.equal(challenge.text, 'tok_EN-1.thumbprint');
    assert.match(String(challenge.headers['content-type']), /^text\/plain/);
    for (const path of [
      '/.well-known/acme-challenge/missing',
      '/.well-known/acme-challenge/..%2Fx',
      '/.well-known/acme-challenge/a.b',
      '/.well-known/acme-challenge/',
    ]) {
      assert.equal((await send(httpPort, { path, headers: { host: 'example.test' } })).status, 404, path);
    }
  });

  it('reloads a replaced certificate file without closing connections, and keeps the old one when the new file is bad', async () => {
    const session = await h2Session(httpsPort, 'example.test', [site.pem]);
    const next = makeCertificate(dir, 'site-next', ['example.test', 'www.example.test']);
    const serial = (ca: string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        httpsGet(httpsPort, 'example.test', ca, { onCertificate: (c) => resolve(c.serialNumber) }).catch(reject);
      });
    const oldSerial = await serial([site.pem]);
    try {
      copyFileSync(next.key, site.key);
      copyFileSync(next.cert, site.cert);
      let newSerial = oldSerial;
      await waitFor(() => logs.some((l) => l.includes('reloaded')), 'the certificate reload', 5_000);
      newSerial = await serial([next.pem]);
      assert.notEqual(newSerial, oldSerial);
      // The HTTP/2 connection opened before the reload still serves.
      assert.equal((await h2Get(session, '/still')).status, 200);
      writeFileSync(site.cert, 'not a certificate');
      await waitFor(() => logs.some((l) => l.includes('kept the previous one')), 'the bad file to be noticed', 5_000);
      assert.equal(await serial([next.pem]), newSerial);
    } finally {
      session.close();
    }
  });
});
