import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClientOptions } from 'ws';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, waitFor } from './helpers/daemon-fixture.js';
import { frontDoorAppConfig } from './helpers/front-door-config.js';
import { certificateDir, makeCertificate, openssl, removeDir, type TestCertificate } from './helpers/test-certificates.js';
import { watchWebSocket, type WatchedConnection } from './helpers/watched-websocket.js';

const tool = openssl();
const HOST = 'shop.example.test';
const SOCKETS = 5;
const LONG_LIVED_TIMEOUT_MS = 2_000;

/** A WebSocket over TLS to the front door (`wss://`), by SNI and Host. */
function openSocket(port: number, cert: TestCertificate): Promise<WatchedConnection> {
  // TLS options go on to https.request: the SNI name too.
  const options: ClientOptions & { servername: string } = { ca: cert.pem, servername: HOST, headers: { host: HOST } };
  return watchWebSocket({ outcome: undefined, closedAt: 0, messages: [] }, `wss://127.0.0.1:${port}/ws`, options);
}

describe(
  'WebSockets over TLS on the front door keep the long-lived drain policy through a blue-green switch (issue 19)',
  { skip: 'skip' in tool ? tool.skip : false },
  () => {
    let daemon: DaemonFixture;
    let dir: string;
    let cert: TestCertificate;
    let httpsPort: number;

    before(async () => {
      dir = certificateDir();
      cert = makeCertificate(dir, 'shop', [HOST]);
      httpsPort = await findFreePort();
      daemon = await DaemonFixture.start((port) =>
        frontDoorAppConfig(port, httpsPort, HOST, cert, {
          app: [
            '    strategy:',
            '      blueGreen: { autoPromote: 0s, scaleDownDelay: 0s }',
            `    longLived: { drain: wait, timeout: ${LONG_LIVED_TIMEOUT_MS}ms }`,
          ],
        }).replace('env: { VERSION: "1" }', 'env: { VERSION: "1", TICK_MS: "100" }'),
      );
    });
    after(async () => {
      await daemon?.stop();
      if (dir) removeDir(dir);
    });

    it('keeps wss:// sockets on blue until the long-lived timeout, then closes them with 1001; new ones land on green', async () => {
      const watched = await Promise.all(Array.from({ length: SOCKETS }, () => openSocket(httpsPort, cert)));
      await waitFor('a first message on each socket', () => watched.every((w) => w.messages.length > 0));
      assert.ok(
        watched.every((w) => w.messages[0]!.includes('v1')),
        `first messages: ${watched.map((w) => w.messages[0]).join(', ')}`,
      );

      const deployStartedAt = performance.now();
      const deploy = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2']);
      assert.equal(deploy.code, 0, deploy.stderr + daemon.logTail());
      const fresh = await openSocket(httpsPort, cert);
      await waitFor('a message on a new socket', () => fresh.messages.length > 0);
      assert.match(fresh.messages[0]!, /v2/);

      await waitFor('every old socket closed', () => watched.every((w) => w.outcome !== undefined), 30_000);
      assert.deepEqual(
        watched.map((w) => w.outcome),
        Array.from({ length: SOCKETS }, () => '1001'),
      );
      // Not cut at the switch: the switch came after the deploy began, the closes a long-lived timeout after it.
      const earliest = Math.min(...watched.map((w) => w.closedAt)) - deployStartedAt;
      assert.ok(earliest >= LONG_LIVED_TIMEOUT_MS, `the first socket closed ${Math.round(earliest)} ms after the deploy began`);
      assert.ok(
        watched.every((w) => w.messages.length > 1 && w.messages.every((m) => !m.includes('v2'))),
        'old sockets kept getting messages from blue only',
      );
      assert.equal(fresh.outcome, undefined, 'the new socket stays open');
    });
  },
);
