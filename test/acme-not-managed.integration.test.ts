import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, waitFor } from './helpers/daemon-fixture.js';
import { refusedPort } from './helpers/proxy-fixtures.js';
import { repoRoot } from './helpers/repo.js';

/** An app on the front door with `tls: acme`, whose CA (unreachable here) is trusted through `caFile`. */
function config(httpPort: number, httpsPort: number, directoryPort: number, caFile: string): string {
  return [
    'proxy:',
    `  listen: { http: 127.0.0.1:${httpPort}, https: 127.0.0.1:${httpsPort} }`,
    '  tls:',
    `    acme: { email: ops@example.test, directory: "https://127.0.0.1:${directoryPort}/dir", caFile: ${JSON.stringify(caFile)} }`,
    'apps:',
    '  web:',
    '    hosts: [acme.example.test]',
    '    run:',
    `      command: [${JSON.stringify(process.execPath)}, server.js]`,
    `      cwd: ${JSON.stringify(path.join(repoRoot(), 'examples', 'demo'))}`,
    '    replicas: 1',
    '    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: 5s }',
  ].join('\n');
}

describe('a certificate manager that cannot start is a /health warning (issue 19)', () => {
  let daemon: DaemonFixture;
  let caDir: string;
  let caFile: string;

  before(async () => {
    caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-ca-'));
    caFile = path.join(caDir, 'ca.pem');
    // `up` checks only that the file is readable and holds a PEM certificate; nothing connects to the CA here.
    fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const httpsPort = await findFreePort();
    const directoryPort = await refusedPort();
    daemon = await DaemonFixture.start((port) => config(port, httpsPort, directoryPort, caFile));
  });
  after(async () => {
    await daemon?.stop();
    if (caDir) fs.rmSync(caDir, { recursive: true, force: true });
  });

  it('names the reason when the CA file went missing after up, and the app is served all the same', async () => {
    assert.equal((await daemon.client.health()).warnings, undefined, 'precondition: the manager started with the daemon');
    fs.rmSync(caFile);
    await daemon.killController();
    let warnings: string[] = [];
    await waitFor('the warning in /health', async () => {
      warnings = (await daemon.client.health()).warnings ?? [];
      return warnings.length > 0;
    });
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /^certificates: not managed \(.*ca\.pem.*\)$/);
    assert.ok(
      (await daemon.status()).apps[0]!.instances.some((i) => i.state === 'ready'),
      'the app is still served',
    );
  });
});
