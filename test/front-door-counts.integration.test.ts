import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, waitFor } from './helpers/daemon-fixture.js';
import { repoRoot } from './helpers/repo.js';

const HOST = 'shop.example.test';

/** The sample app on the front door's plain listener only, and /metrics on its own port. */
function config(httpPort: number, metricsPort: number): string {
  return [
    'proxy:',
    `  listen: { http: 127.0.0.1:${httpPort} }`,
    `metrics: { listen: 127.0.0.1:${metricsPort} }`,
    'apps:',
    '  web:',
    `    hosts: [${HOST}]`,
    '    run:',
    `      command: [${JSON.stringify(process.execPath)}, server.js]`,
    `      cwd: ${JSON.stringify(path.join(repoRoot(), 'examples', 'demo'))}`,
    '      env: { VERSION: "1" }',
    '    replicas: 1',
    '    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: 5s }',
  ].join('\n');
}

function get(port: number, host: string, urlPath = '/'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent: false, setHost: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

function unknownHostMetric(metrics: string): number | undefined {
  const line = /^cutover_unknown_host_requests_total (\d+)$/m.exec(metrics);
  return line ? Number(line[1]) : undefined;
}

describe('requests for a host no app serves are counted in /metrics and status (issue 19)', () => {
  let daemon: DaemonFixture;
  let metricsPort: number;

  before(async () => {
    metricsPort = await findFreePort();
    daemon = await DaemonFixture.start((port) => config(port, metricsPort));
  });
  after(async () => daemon?.stop());

  it('a request with an unknown Host gets 404, never reaches the app, and increments cutover_unknown_host_requests_total and status', async () => {
    // Given: the front door serves the app's host, and nothing was counted yet.
    const served = await get(daemon.port, HOST);
    assert.equal(served.status, 200, served.text);
    await waitFor('the front door in status', async () => (await daemon.status()).frontDoor !== undefined);
    assert.equal((await daemon.status()).frontDoor?.unknownHostRequests, 0);
    assert.equal(unknownHostMetric(await get(metricsPort, `127.0.0.1:${metricsPort}`, '/metrics').then((r) => r.text)), 0);

    // When: two requests name hosts no app serves.
    for (const host of ['other.example.test', 'nothing.test:8080']) {
      const answer = await get(daemon.port, host);
      assert.equal(answer.status, 404);
      assert.doesNotMatch(answer.text, /hello from/);
    }

    // Then: both are counted, in /metrics, in status --json and in status's words.
    let metrics = '';
    await waitFor('2 unknown-host requests in /metrics', async () => {
      metrics = (await get(metricsPort, `127.0.0.1:${metricsPort}`, '/metrics')).text;
      return unknownHostMetric(metrics) === 2;
    });
    assert.match(metrics, /^# TYPE cutover_unknown_host_requests_total counter$/m);
    const json = await daemon.cli(['status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).frontDoor, { unknownHostRequests: 2 });
    const words = await daemon.cli(['status']);
    assert.match(words.stdout, /front door: 2 request\(s\) for a host no app serves/);
  });
});
