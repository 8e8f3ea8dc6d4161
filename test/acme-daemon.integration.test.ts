import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, waitFor } from './helpers/daemon-fixture.js';
import { pebbleSkip, TestPebble } from './helpers/pebble.js';
import { repoRoot } from './helpers/repo.js';

const HOST = 'shop.example.test';

/** The sample app on the shared listeners only, with `tls: acme` from the test's pebble. */
function acmeConfig(httpPort: number, httpsPort: number, pebble: TestPebble): string {
  return [
    'proxy:',
    `  listen: { http: 127.0.0.1:${httpPort}, https: 127.0.0.1:${httpsPort} }`,
    '  tls:',
    `    acme: { email: ops@example.test, directory: ${JSON.stringify(pebble.directory)}, caFile: ${JSON.stringify(pebble.caFile)} }`,
    'apps:',
    '  web:',
    `    hosts: [${HOST}]`,
    '    tls: acme',
    '    run:',
    `      command: [${JSON.stringify(process.execPath)}, server.js]`,
    `      cwd: ${JSON.stringify(path.join(repoRoot(), 'examples', 'demo'))}`,
    '      env: { VERSION: "1" }',
    '    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: 10s }',
  ].join('\n');
}

function get(port: number, options: { isTls: boolean; ca?: string }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = (options.isTls ? https : http).get(
      { host: '127.0.0.1', port, path: '/', headers: { host: HOST }, ...(options.isTls ? { servername: HOST, ca: options.ca } : {}), timeout: 5_000 },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

describe('the daemon gets ACME certificates for apps with tls: acme and serves them (issue 19)', { skip: pebbleSkip }, () => {
  let dir: string;
  let pebble: TestPebble;
  let daemon: DaemonFixture;
  let httpPort: number;
  let httpsPort: number;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-acme-'));
    httpPort = await findFreePort();
    do httpsPort = await findFreePort();
    while (httpsPort === httpPort);
    // pebble validates HTTP-01 on the daemon's shared plain listener.
    pebble = await TestPebble.start(dir, httpPort);
    daemon = await DaemonFixture.start(() => acmeConfig(httpPort, httpsPort, pebble));
  });

  after(async () => {
    await daemon?.stop();
    await pebble?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('obtains the certificate over HTTP-01 on the shared listener, lists it in cutover certs, and serves HTTPS with it', async () => {
    let listed: { certificates: { host: string; state: string; lastError: string | null }[] } = { certificates: [] };
    await waitFor(
      `a valid certificate for ${HOST}`,
      async () => {
        const result = await daemon.cli(['certs', '--json']);
        if (result.code === 0) listed = JSON.parse(result.stdout) as typeof listed;
        return listed.certificates.some((c) => c.host === HOST && c.state === 'valid');
      },
      120_000,
    ).catch((error: Error) => assert.fail(`${error.message}: ${JSON.stringify(listed)}\n${daemon.logTail()}`));

    // The proxy workers watch the files: the first handshakes may still meet the empty slot.
    const root = await pebble.root();
    let answer: Awaited<ReturnType<typeof get>> | null = null;
    await waitFor('an HTTPS answer with the ACME certificate', async () => {
      answer = await get(httpsPort, { isTls: true, ca: root }).catch(() => null);
      return answer !== null;
    });
    assert.equal(answer!.status, 200);
    assert.match(answer!.body, /hello from v1/);

    const plain = await get(httpPort, { isTls: false });
    assert.equal(plain.status, 308, 'plain requests for a host served over TLS are redirected');
    assert.equal(plain.headers.location, `https://${HOST}:${httpsPort}/`, "to the shared HTTPS listener's port");
  });
});
