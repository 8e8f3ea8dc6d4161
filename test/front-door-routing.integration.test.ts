import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import type { TrafficPlan } from '../src/model/traffic-plan.js';
import { group, LOOPBACK, send, startUpstream, type TestUpstream } from './helpers/proxy-fixtures.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from './helpers/test-certificates.js';
import { h2Get, h2Session, httpsGet } from './helpers/tls-clients.js';

const tool = openssl();

/** An upstream that answers its name and the path it saw, and accepts WebSocket upgrades (101, then its name). */
function echoUpstream(name: string): Promise<TestUpstream> {
  return startUpstream(
    (req, res) => {
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ name, path: req.url })));
    },
    (server) =>
      server.on('upgrade', (req, socket: Socket) => {
        socket.end(`HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\nx-app: ${name}\r\n\r\n`);
      }),
  );
}

function frontPlan(app: string, upstream: TestUpstream, frontDoor: TrafficPlan['frontDoor']): TrafficPlan {
  return { app, version: 1, listen: { host: '', port: 0 }, groups: [group(1, 1, [upstream.endpoint(`${app}-1`)])], frontDoor };
}

/** Sends `head` (a whole request head) on a new connection; resolves with the response head as text. */
function rawExchange(open: () => Socket | TLSSocket, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = open();
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\r\n\r\n');
      if (end !== -1) {
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before a response head; got ${JSON.stringify(text)}`)));
    socket.write(head);
  });
}

function upgradeHead(path: string, host: string): string {
  return `GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
}

describe(
  'front door routing corners: absolute-form targets, paths no app covers, SNI with a trailing dot, WebSockets',
  { skip: 'skip' in tool ? tool.skip : false },
  () => {
    let dir: string;
    let site: TestCertificate;
    let web: TestUpstream;
    let plain: TestUpstream;
    let api: TestUpstream;
    let proxy: ProxyServer;
    let httpsPort: number;
    let httpPort: number;
    const reached = (): number => web.count() + plain.count() + api.count();
    const unknownHost = (): number => proxy.measurements().unknownHost ?? 0;
    const overPlain = (): Socket => netConnect({ host: LOOPBACK, port: httpPort });
    const overTls =
      (servername: string): (() => TLSSocket) =>
      () =>
        tlsConnect({ host: LOOPBACK, port: httpsPort, servername, ca: [site.pem] });

    before(async () => {
      dir = certificateDir();
      site = makeCertificate(dir, 'site', ['example.test']);
      mkdirSync(join(dir, 'data', 'certs', 'acme-challenges'), { recursive: true });
      writeFileSync(join(dir, 'data', 'certs', 'acme-challenges', 'tok-2'), 'tok-2.thumbprint');
      [web, plain, api] = await Promise.all([echoUpstream('web'), echoUpstream('plain'), echoUpstream('api')]);
      proxy = new ProxyServer(
        { closeTimeoutMs: 2_000 },
        { http: { host: LOOPBACK, port: 0 }, https: { host: LOOPBACK, port: 0 }, redirectHttp: true, hsts: null, dataDir: join(dir, 'data') },
        () => undefined,
      );
      // example.test serves /app only, over TLS; plain.test serves every path in plain HTTP, /api by another app.
      await proxy.applyPlan(frontPlan('web', web, { hosts: ['example.test'], paths: ['/app'], tls: { cert: site.cert, key: site.key } }));
      await proxy.applyPlan(frontPlan('plain', plain, { hosts: ['plain.test'], paths: ['/'], tls: false }));
      await proxy.applyPlan(frontPlan('api', api, { hosts: ['plain.test'], paths: ['/api'], tls: false }));
      await proxy.listenFrontDoor();
      httpsPort = proxy.frontDoorAddress('https')!.port;
      httpPort = proxy.frontDoorAddress('http')!.port;
    });

    after(async () => {
      await proxy?.close();
      await Promise.all([web, plain, api].map((u) => u?.close()));
      if (dir) removeDir(dir);
    });

    it('routes an absolute-form target by its path, and answers an absolute-form ACME challenge without redirecting it', async () => {
      const viaPlain = await send(httpPort, { path: 'http://plain.test/api/x?y=1', headers: { host: 'plain.test' } });
      assert.deepEqual(JSON.parse(viaPlain.text), { name: 'api', path: '/api/x?y=1' });
      const viaTls = await httpsGet(httpsPort, 'example.test', [site.pem], { path: 'https://example.test/app/x' });
      assert.equal(viaTls.status, 200);
      assert.deepEqual(JSON.parse(viaTls.text), { name: 'web', path: '/app/x' });
      const challenge = await send(httpPort, { path: 'http://example.test/.well-known/acme-challenge/tok-2', headers: { host: 'example.test' } });
      assert.equal(challenge.status, 200);
      assert.equal(challenge.text, 'tok-2.thumbprint');
      const redirect = await send(httpPort, { path: 'http://example.test/app/b?c=1', headers: { host: 'example.test' } });
      assert.equal(redirect.status, 308);
      assert.equal(redirect.headers.location, `https://example.test:${httpsPort}/app/b?c=1`);
    });

    it('answers 404 for a path none of a served host’s apps covers: not a misdirected request, not an unknown host', async () => {
      const reachedBefore = reached();
      const countBefore = unknownHost();
      const overHttps = await httpsGet(httpsPort, 'example.test', [site.pem], { path: '/other' });
      assert.equal(overHttps.status, 404);
      assert.match(overHttps.text, /no app serves this path on this host/);
      const session = await h2Session(httpsPort, 'example.test', [site.pem]);
      try {
        const overH2 = await h2Get(session, '/other');
        assert.equal(overH2.status, 404);
      } finally {
        session.close();
      }
      const overHttp = await send(httpPort, { path: '/other', headers: { host: 'example.test' } });
      assert.equal(overHttp.status, 404);
      assert.equal(reached(), reachedBefore, 'no app was reached');
      assert.equal(unknownHost(), countBefore, 'none counted as an unknown host');
      // The precondition of the counts above: an unknown host is still counted.
      assert.equal((await send(httpPort, { headers: { host: 'nobody.test' } })).status, 404);
      assert.equal(unknownHost(), countBefore + 1);
    });

    it('takes an SNI name with a trailing dot as the host name', async () => {
      const head = await rawExchange(overTls('example.test.'), 'GET /app HTTP/1.1\r\nhost: example.test\r\nconnection: close\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 200 /);
    });

    it('routes WebSocket upgrades by host and path on both listeners, refuses ws:// for a TLS host, and counts unknown hosts', async () => {
      const countBefore = unknownHost();
      assert.match(await rawExchange(overPlain, upgradeHead('/api/socket', 'plain.test')), /^HTTP\/1\.1 101 [^]*x-app: api/);
      assert.match(await rawExchange(overPlain, upgradeHead('/socket', 'plain.test')), /^HTTP\/1\.1 101 [^]*x-app: plain/);
      assert.match(await rawExchange(overTls('example.test'), upgradeHead('/app/socket', 'example.test')), /^HTTP\/1\.1 101 [^]*x-app: web/);
      assert.match(await rawExchange(overPlain, upgradeHead('/app/socket', 'example.test')), /^HTTP\/1\.1 400 /);
      assert.match(await rawExchange(overTls('example.test'), upgradeHead('/other', 'example.test')), /^HTTP\/1\.1 404 /);
      assert.equal(unknownHost(), countBefore);
      assert.match(await rawExchange(overPlain, upgradeHead('/socket', 'nobody.test')), /^HTTP\/1\.1 404 /);
      assert.match(await rawExchange(overTls('example.test'), upgradeHead('/app', 'nobody.test')), /^HTTP\/1\.1 421 /);
      assert.equal(unknownHost(), countBefore + 2);
    });
  },
);
