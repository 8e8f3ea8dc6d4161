import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { CHECKS_PER_CONNECTION, HealthProbe, requestTarget } from './health-check.js';
import { MAX_BODY_BYTES } from './health-response-reader.js';

/** A real local server that answers `status` and counts the TCP connections it accepted. */
async function countingServer(
  status = 200,
  configure: (server: http.Server) => void = () => {},
): Promise<{ port: number; connections: Socket[]; close: () => Promise<void> }> {
  const server = http.createServer((_request, response) => {
    response.statusCode = status;
    response.end('ok');
  });
  configure(server);
  const connections: Socket[] = [];
  server.on('connection', (socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('HealthProbe', () => {
  it('sends every check of an instance over one kept connection', async () => {
    const server = await countingServer();
    const probe = new HealthProbe('127.0.0.1', server.port, '/healthz', 1_000);
    try {
      const results = [];
      for (let n = 0; n < 5; n++) results.push(await probe.check());
      assert.deepEqual(
        results.map((r) => r.isHealthy),
        [true, true, true, true, true],
        'precondition: every check was answered',
      );
      assert.equal(results[4]!.detail, 'HTTP 200');
      assert.equal(server.connections.length, 1);
      assert.equal(probe.connectionsOpened, 1);
    } finally {
      probe.close();
      await server.close();
    }
  });

  it(`opens a new connection every ${CHECKS_PER_CONNECTION} checks, so a check still proves the app accepts connections`, async () => {
    const server = await countingServer();
    const probe = new HealthProbe('127.0.0.1', server.port, '/healthz', 1_000);
    try {
      for (let n = 0; n < 2 * CHECKS_PER_CONNECTION + 1; n++) assert.equal((await probe.check()).isHealthy, true, `check ${n + 1} was answered`);
      assert.equal(probe.connectionsOpened, 3);
      assert.equal(server.connections.length, 3);
    } finally {
      probe.close();
      await server.close();
    }
  });

  it('closes its kept connection when the instance is no longer checked', async () => {
    const server = await countingServer();
    const probe = new HealthProbe('127.0.0.1', server.port, '/', 1_000);
    try {
      assert.equal((await probe.check()).isHealthy, true);
      const [socket] = server.connections;
      assert.ok(socket && !socket.destroyed, 'precondition: the connection was kept open');
      const closed = new Promise((resolve) => socket.once('close', resolve));
      probe.close();
      await closed;
    } finally {
      await server.close();
    }
  });

  it('counts no failure when the app closed the kept connection between checks', async () => {
    // The app closes idle connections after 1 ms: each check finds its kept one gone, or loses it as it is sent.
    const server = await countingServer(200, (s) => (s.keepAliveTimeout = 1));
    const probe = new HealthProbe('127.0.0.1', server.port, '/', 1_000);
    try {
      for (let n = 0; n < 20; n++) {
        const result = await probe.check();
        assert.equal(result.isHealthy, true, `check ${n}: ${result.detail}`);
        await new Promise((resolve) => setTimeout(resolve, n % 2));
      }
      assert.ok(server.connections.length > 1, 'precondition: the app really closed connections between checks');
    } finally {
      probe.close();
      await server.close();
    }
  });

  it('reports what went wrong: an error status, a refused connection', async () => {
    const failing = await countingServer(503);
    const probe = new HealthProbe('127.0.0.1', failing.port, '/', 1_000);
    assert.deepEqual(await probe.check(), { isHealthy: false, detail: 'HTTP 503' });
    probe.close();
    await failing.close();
    const refused = new HealthProbe('127.0.0.1', failing.port, '/', 1_000);
    assert.deepEqual(await refused.check(), { isHealthy: false, detail: `connect ECONNREFUSED 127.0.0.1:${failing.port}` });
    refused.close();
  });

  it('keeps its connection while the app answers, whatever the framing: Content-Length, chunked, no body', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      'HTTP/1.1 204 No Content\r\n\r\n',
    ];
    let answered = 0;
    const app = await rawApp((socket) => socket.on('data', () => socket.write(answers[answered++ % answers.length]!)));
    const probe = new HealthProbe('127.0.0.1', app.port, '/', 1_000);
    try {
      for (let n = 0; n < 6; n++) assert.deepEqual(await probe.check(), { isHealthy: true, detail: n % 3 === 2 ? 'HTTP 204' : 'HTTP 200' });
      assert.equal(answered, 6, 'precondition: every check reached the app');
      assert.equal(app.connections.length, 1);
    } finally {
      probe.close();
      await app.close();
    }
  });

  it('sends one fixed GET with the Host and the path percent-encoded where a request line cannot carry it', async () => {
    const requests: string[] = [];
    const app = await rawApp((socket) =>
      socket.on('data', (chunk) => {
        requests.push(chunk.toString('latin1'));
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      }),
    );
    const probe = new HealthProbe('127.0.0.1', app.port, '/health check/é', 1_000);
    try {
      assert.equal((await probe.check()).isHealthy, true);
      assert.equal(
        requests[0],
        `GET /health%20check/%C3%A9 HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nUser-Agent: cutover-health\r\nConnection: keep-alive\r\n\r\n`,
      );
      assert.equal(requestTarget('/a?b=c&d'), '/a?b=c&d');
    } finally {
      probe.close();
      await app.close();
    }
  });

  it('fails a check on an answer that is not HTTP, and opens a new connection for the next', async () => {
    const app = await rawApp((socket) => socket.on('data', () => socket.write('garbage\r\n\r\n')));
    const probe = new HealthProbe('127.0.0.1', app.port, '/', 1_000);
    try {
      assert.deepEqual(await probe.check(), { isHealthy: false, detail: 'invalid HTTP answer: malformed status line' });
      assert.deepEqual(await probe.check(), { isHealthy: false, detail: 'invalid HTTP answer: malformed status line' });
      assert.equal(probe.connectionsOpened, 2);
    } finally {
      probe.close();
      await app.close();
    }
  });

  it('fails a check on headers that never end, without waiting for the timeout', async () => {
    const app = await rawApp((socket) => {
      socket.on('error', () => {});
      socket.on('data', () => {
        socket.write('HTTP/1.1 200 OK\r\n');
        const flood = setInterval(() => (socket.destroyed ? clearInterval(flood) : socket.write(`X-Flood: ${'f'.repeat(1000)}\r\n`)), 1);
      });
    });
    const probe = new HealthProbe('127.0.0.1', app.port, '/', 5_000);
    try {
      const started = performance.now();
      assert.deepEqual(await probe.check(), { isHealthy: false, detail: 'invalid HTTP answer: response head over 16384 bytes' });
      assert.ok(performance.now() - started < 4_000, 'failed on the size, not the timeout');
    } finally {
      probe.close();
      await app.close();
    }
  });

  it('fails a check the app does not finish within the timeout: no answer, or a body that trickles', async () => {
    const hung = await rawApp(() => {});
    const trickle = await rawApp((socket) => {
      socket.on('error', () => {});
      socket.on('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
        const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write('x')), 20);
      });
    });
    const probes = [new HealthProbe('127.0.0.1', hung.port, '/', 300), new HealthProbe('127.0.0.1', trickle.port, '/', 300)];
    try {
      for (const probe of probes) {
        const started = performance.now();
        assert.deepEqual(await probe.check(), { isHealthy: false, detail: 'timeout after 300ms' });
        const tookMs = performance.now() - started;
        assert.ok(tookMs >= 290 && tookMs < 2_000, `took ${tookMs} ms`);
      }
      assert.equal(hung.connections.length, 1, 'precondition: the hung app accepted the connection');
    } finally {
      for (const probe of probes) probe.close();
      await hung.close();
      await trickle.close();
    }
  });

  it('fails a check whose answer is cut off mid-body, and one closed before any answer', async () => {
    const cut = await rawApp((socket) => socket.on('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')));
    const silent = await rawApp((socket) => socket.on('data', () => socket.end()));
    const probes = [new HealthProbe('127.0.0.1', cut.port, '/', 1_000), new HealthProbe('127.0.0.1', silent.port, '/', 1_000)];
    try {
      assert.deepEqual(await probes[0]!.check(), { isHealthy: false, detail: 'HTTP 200, body cut off' });
      assert.deepEqual(await probes[1]!.check(), { isHealthy: false, detail: `ECONNRESET 127.0.0.1:${silent.port}` });
    } finally {
      for (const probe of probes) probe.close();
      await cut.close();
      await silent.close();
    }
  });

  it('reads a body that ends with the connection, and an endless one up to its limit', async () => {
    const untilClose = await rawApp((socket) => socket.on('data', () => socket.end('HTTP/1.1 503 Unavailable\r\n\r\ndown for maintenance')));
    let endlessBytes = 0;
    const endless = await rawApp((socket) => {
      socket.on('error', () => {});
      socket.on('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
        const chunk = `4000\r\n${'y'.repeat(0x4000)}\r\n`;
        const pump = (): void => {
          while (!socket.destroyed && socket.write(chunk)) endlessBytes += 0x4000;
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
      });
    });
    const probes = [new HealthProbe('127.0.0.1', untilClose.port, '/', 1_000), new HealthProbe('127.0.0.1', endless.port, '/', 5_000)];
    try {
      assert.deepEqual(await probes[0]!.check(), { isHealthy: false, detail: 'HTTP 503' });
      assert.deepEqual(await probes[1]!.check(), { isHealthy: true, detail: 'HTTP 200' });
      assert.ok(endlessBytes >= MAX_BODY_BYTES, `precondition: the app sent ${endlessBytes} bytes`);
      assert.equal(await probes[1]!.check().then((r) => r.isHealthy), true);
      assert.equal(probes[1]!.connectionsOpened, 2, 'a connection read past its body limit is not reused');
    } finally {
      for (const probe of probes) probe.close();
      await untilClose.close();
      await endless.close();
    }
  });

  it('counts no failure when the app closes each connection right after its answer', async () => {
    let answered = 0;
    const app = await rawApp((socket) =>
      socket.on('data', () => {
        // A check sent after this side ended meets a reset, as from a server that closed.
        if (socket.writableEnded) {
          socket.destroy();
          return;
        }
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        // Closes without saying so: every other time a millisecond later, as the next check may
        // already be on its way (on a quick machine it often is not yet), else at once, so that
        // connections are closed under the probe whatever the machine's speed.
        if (answered++ % 2 === 0) setTimeout(() => socket.destroy(), 1);
        else socket.end();
      }),
    );
    const probe = new HealthProbe('127.0.0.1', app.port, '/', 1_000);
    try {
      for (let n = 0; n < 20; n++) assert.deepEqual(await probe.check(), { isHealthy: true, detail: 'HTTP 200' }, `check ${n}`);
      assert.ok(app.connections.length > 1, 'precondition: connections were closed under the probe');
    } finally {
      probe.close();
      await app.close();
    }
  });

  it('drops a kept connection on which the app sent bytes nobody asked for', async () => {
    const app = await rawApp((socket) =>
      socket.on('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
        setTimeout(() => socket.write('HTTP/1.1 500 Stray\r\nContent-Length: 0\r\n\r\n'), 5);
      }),
    );
    const probe = new HealthProbe('127.0.0.1', app.port, '/', 1_000);
    try {
      assert.equal((await probe.check()).isHealthy, true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(await probe.check(), { isHealthy: true, detail: 'HTTP 200' }, 'the stray answer was not taken for this one');
      assert.equal(probe.connectionsOpened, 2);
    } finally {
      probe.close();
      await app.close();
    }
  });

  it('sends overlapping checks over separate connections', async () => {
    const app = await rawApp((socket) => socket.on('data', () => setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 20)));
    const probe = new HealthProbe('127.0.0.1', app.port, '/', 1_000);
    try {
      const results = await Promise.all([probe.check(), probe.check()]);
      assert.deepEqual(results, [
        { isHealthy: true, detail: 'HTTP 200' },
        { isHealthy: true, detail: 'HTTP 200' },
      ]);
      assert.equal(app.connections.length, 2);
    } finally {
      probe.close();
      await app.close();
    }
  });

  it('ends a check in flight when closed', async () => {
    const hung = await rawApp(() => {});
    const probe = new HealthProbe('127.0.0.1', hung.port, '/', 10_000);
    try {
      const check = probe.check();
      while (hung.connections.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      probe.close();
      assert.equal((await check).isHealthy, false);
      assert.equal(probe.connectionsOpened, 1, 'no new connection after close');
    } finally {
      await hung.close();
    }
  });
});

/** A local TCP server speaking whatever `onConnection` writes: the app, misbehaving on purpose. */
async function rawApp(onConnection: (socket: Socket) => void): Promise<{ port: number; connections: Socket[]; close: () => Promise<void> }> {
  const connections: Socket[] = [];
  const server = net.createServer((socket) => {
    connections.push(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () => {
      for (const socket of connections) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
