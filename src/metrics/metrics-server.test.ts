import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { startMetricsServer } from './metrics-server.js';

function get(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false, setHost: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('/metrics checks Host and an optional token (issue 22, finding 7)', () => {
  const TOKEN = 'metrics-token-7a6b5c4d3e2f1a0b';
  const servers: http.Server[] = [];
  let open: number;
  let guarded: number;

  before(async () => {
    const registry = new Registry();
    const plain = await startMetricsServer({ host: '127.0.0.1', port: 0 }, registry, () => {});
    const withToken = await startMetricsServer({ host: '127.0.0.1', port: 0 }, registry, () => {}, TOKEN);
    servers.push(plain!.server, withToken!.server);
    open = plain!.address.port;
    guarded = withToken!.address.port;
  });

  after(() => servers.forEach((server) => server.close()));

  test("a Host that is an address or a name of this machine is served; a DNS-rebinding page's name is refused", async () => {
    for (const host of [`127.0.0.1:${open}`, `localhost:${open}`, `[::1]:${open}`, `10.1.2.3:${open}`, `${os.hostname()}:${open}`, '127.0.0.1']) {
      assert.equal((await get(open, { host })).status, 200, host);
    }
    for (const host of [`attacker.example:${open}`, 'rebind.attacker.example', '']) {
      const answer = await get(open, { host });
      assert.equal(answer.status, 403, host);
      assert.match(answer.body, /is not an address or a name of this machine/);
    }
  });

  test('with metrics.token, only a request bearing it is served', async () => {
    const host = `127.0.0.1:${guarded}`;
    assert.equal((await get(guarded, { host })).status, 401);
    assert.equal((await get(guarded, { host, authorization: 'Bearer wrong-token-0000000000' })).status, 401);
    assert.equal((await get(guarded, { host, authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await get(guarded, { host: 'attacker.example', authorization: `Bearer ${TOKEN}` })).status, 403);
  });
});
