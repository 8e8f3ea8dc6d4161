import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { CHECKS_PER_CONNECTION, HealthProbe } from './health-check.js';

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
});
