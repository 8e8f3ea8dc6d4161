import path from 'node:path';
import { repoRoot } from './repo.js';
import type { TestCertificate } from './test-certificates.js';

/**
 * A config with the shared listeners on two loopback ports and one demo app, `web`, on them
 * only (no address of its own), over TLS with certificate files. `proxyExtra` and `appExtra`
 * are further lines under `proxy:` and under the app.
 */
export function frontDoorAppConfig(
  httpPort: number,
  httpsPort: number,
  host: string,
  cert: TestCertificate,
  extra: { proxy?: string[]; app?: string[] } = {},
): string {
  return [
    'proxy:',
    `  listen: { http: 127.0.0.1:${httpPort}, https: 127.0.0.1:${httpsPort} }`,
    ...(extra.proxy ?? []),
    'apps:',
    '  web:',
    `    hosts: [${host}]`,
    `    tls: { cert: ${JSON.stringify(cert.cert)}, key: ${JSON.stringify(cert.key)} }`,
    '    run:',
    `      command: [${JSON.stringify(process.execPath)}, server.js]`,
    `      cwd: ${JSON.stringify(path.join(repoRoot(), 'examples', 'demo'))}`,
    '      env: { VERSION: "1" }',
    '    replicas: 2',
    '    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: 5s }',
    ...(extra.app ?? []),
  ].join('\n');
}
