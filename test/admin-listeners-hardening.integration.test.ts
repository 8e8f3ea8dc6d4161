/**
 * Issue 22, findings 4 and 5, against a running daemon with the admin API on TCP and the
 * dashboard: every bad input to the API is a 4xx naming the problem (never 500), and both
 * listeners cut slow clients (slowloris) and cap their connections, over raw sockets.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_HEADERS_TIMEOUT_MS, ADMIN_MAX_CONNECTIONS } from '../src/api/listener-limits.js';
import { MAX_BODY_BYTES } from '../src/api/request-input.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, sampleAppConfig } from './helpers/daemon-fixture.js';

const TOKEN = 'hardening-admin-token-3e5d7c9b1a2f4e6d';

interface Answer {
  status: number;
  body: string;
}

function request(port: number, method: string, urlPath: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: urlPath, headers: { authorization: `Bearer ${TOKEN}`, ...headers }, agent: false },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // A refused large body may be cut while it is still being sent: the answer came first.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    req.end(body);
  });
}

/**
 * Sends a request head over a raw socket, then (when `isBodySent`) 64 KiB chunks until the
 * answer comes; returns what came back until the server closed the connection.
 */
function rawExchange(port: number, head: string, isBodySent: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const chunk = `10000\r\n${' '.repeat(0x10000)}\r\n`;
    const sendMore = (): void => {
      while (answer === '' && socket.writable && socket.write(chunk));
    };
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
    socket.on('drain', () => isBodySent && sendMore());
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(answer));
    socket.once('connect', () => {
      socket.write(head);
      if (isBodySent) sendMore();
    });
    setTimeout(() => reject(new Error(`no answer within 10 s: ${answer.slice(0, 100)}`)), 10_000).unref();
  });
}

/** Opens a raw connection and sends the start of a request head, never its end. */
function slowClient(port: number): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const openedAt = performance.now();
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now() - openedAt)));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(`GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

describe('admin and dashboard listeners (issue 22)', () => {
  let daemon: DaemonFixture;
  let adminPort: number;
  let uiPort: number;

  before(async () => {
    adminPort = await findFreePort();
    uiPort = await findFreePort();
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 1 }), {
      upArgs: ['--admin', `127.0.0.1:${adminPort}`, '--ui', `127.0.0.1:${uiPort}`],
      beforeUp: (fixture) => {
        fs.mkdirSync(fixture.dataDir, { recursive: true, mode: 0o700 });
        fs.writeFileSync(path.join(fixture.dataDir, 'admin-token'), `${TOKEN}\n`, { mode: 0o600 });
      },
    });
  });

  after(async () => daemon?.stop());

  test('finding 4: a body that is not a JSON object is a 400 naming it, on deploy, promote and rollback', async () => {
    for (const route of ['/v1/deploy', '/v1/apps/web/promote', '/v1/apps/web/rollback']) {
      for (const [body, named] of [
        ['null', /got null/],
        ['[]', /got a list/],
        ['7', /got number/],
        ['"x"', /got string/],
        ['{', /not valid JSON/],
      ] as const) {
        const answer = await request(adminPort, 'POST', route, body, { 'content-type': 'application/json' });
        assert.equal(answer.status, 400, `${route} ${body}: ${answer.body}`);
        const { code, message } = JSON.parse(answer.body) as { code: string; message: string };
        assert.equal(code, 'BAD_REQUEST');
        assert.match(message, named);
      }
    }
  });

  test('finding 4: bad query numbers are a 400 naming the parameter; deploy bodies of the wrong shape are 400', async () => {
    for (const urlPath of [
      '/v1/events?limit=abc',
      '/v1/events?limit=-1',
      '/v1/events?after=1.5',
      '/v1/events?rollout=x',
      '/v1/apps/web/rollouts?limit=abc',
      '/v1/apps/web/report?rollout=abc',
    ]) {
      const answer = await request(adminPort, 'GET', urlPath);
      assert.equal(answer.status, 400, `${urlPath}: ${answer.body}`);
      assert.match(JSON.parse(answer.body).message, /^\?(limit|after|rollout) must be a whole number/);
    }
    assert.equal((await request(adminPort, 'GET', '/v1/events?limit=5000')).status, 200, 'a limit above the most is lowered to it, as before');
    for (const body of [
      '{"apps":null}',
      '{"apps":[null]}',
      '{"apps":[{}]}',
      '{"apps":[{"name":"web"}]}',
      '{"apps":[1],"strategy":5}',
      '{"skipHooks":"x"}',
      '{"apps":[{"name":"web","listen":null}]}',
    ]) {
      const answer = await request(adminPort, 'POST', '/v1/deploy', body);
      assert.equal(answer.status, 400, `${body}: ${answer.body}`);
    }
    assert.equal((await request(adminPort, 'GET', '/v1/rollouts/99999999999999999999')).status, 404);
  });

  test("finding 4: a body over the limit is a 413, declared or sent, on the admin listener and the dashboard's", async () => {
    for (const port of [adminPort, uiPort]) {
      const head = `POST /v1/deploy HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n`;
      const declared = await rawExchange(port, `${head}Content-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`, false);
      assert.match(declared, /^HTTP\/1\.1 413 /, declared.slice(0, 200));
      assert.match(declared, /"code":"BODY_TOO_LARGE"/);
      const sent = await rawExchange(port, `${head}Transfer-Encoding: chunked\r\n\r\n`, true);
      assert.match(sent, /^HTTP\/1\.1 413 /, sent.slice(0, 200));
    }
  });

  test('finding 5: slow clients are cut after the header timeout, and connections over the cap are closed at once, on both listeners', async () => {
    for (const port of [adminPort, uiPort]) {
      const slow = await Promise.all(Array.from({ length: ADMIN_MAX_CONNECTIONS + 20 }, () => slowClient(port)));
      // Trickle a byte now and then, as slowloris does: it must not keep a connection alive.
      const trickle = setInterval(() => slow.forEach(({ socket }) => socket.writable && socket.write('a')), 1_000);
      try {
        const lifetimes = await Promise.all(slow.map(({ closed }) => closed));
        const cutAtOnce = lifetimes.filter((ms) => ms < 2_000).length;
        assert.ok(cutAtOnce >= 20, `${cutAtOnce} connections over the cap of ${ADMIN_MAX_CONNECTIONS} were closed at once on port ${port}`);
        const longest = Math.max(...lifetimes);
        assert.ok(
          longest >= ADMIN_HEADERS_TIMEOUT_MS - 500 && longest < ADMIN_HEADERS_TIMEOUT_MS + 3_000,
          `the slowest lived ${Math.round(longest)} ms on port ${port}`,
        );
      } finally {
        clearInterval(trickle);
        for (const { socket } of slow) socket.destroy();
      }
      // Once they are gone, the listener serves again.
      assert.equal((await request(port, 'GET', '/v1/health')).status, 200);
    }
  });
});
