import { ProxyServer } from '../../src/proxy/proxy-server.js';
import type { ProxyOptions } from '../../src/proxy/proxy-options.js';
import { group, LOOPBACK, type TestUpstream } from './proxy-fixtures.js';
import type { TestCertificate } from './test-certificates.js';

/**
 * A proxy with only the front door's TLS listener (a free port on loopback), serving the app
 * `web` for `host` with the certificate files of `cert`, from `upstream`. Close it with `proxy.close()`.
 */
export async function startTlsFrontDoor(
  host: string,
  cert: TestCertificate,
  upstream: TestUpstream,
  options: Partial<ProxyOptions> = {},
): Promise<{ proxy: ProxyServer; port: number }> {
  const proxy = new ProxyServer(
    { closeTimeoutMs: 1_000, ...options },
    { http: null, https: { host: LOOPBACK, port: 0 }, redirectHttp: false, hsts: null, dataDir: null },
    () => undefined,
  );
  await proxy.applyPlan({
    app: 'web',
    version: 1,
    listen: { host: '', port: 0 },
    groups: [group(1, 1, [upstream.endpoint('web-1')])],
    frontDoor: { hosts: [host], paths: ['/'], tls: { cert: cert.cert, key: cert.key } },
  });
  await proxy.listenFrontDoor();
  return { proxy, port: proxy.frontDoorAddress('https')!.port };
}
