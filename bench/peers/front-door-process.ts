/**
 * cutover's `ProxyServer` alone in its own process with the front door's TLS listener only:
 * one app on host NAME with the certificate files given, routed to one upstream. Run by
 * `bench/tls-proxy.ts` as `front-door-process.js HTTPS_PORT UPSTREAM_PORT NAME CERT KEY`.
 */
import { ProxyServer } from '../../src/proxy/index.js';

const [httpsPort, upstreamPort, name, cert, key] = process.argv.slice(2);
const proxy = new ProxyServer({}, { http: null, https: { host: '127.0.0.1', port: Number(httpsPort) }, redirectHttp: false, hsts: null, dataDir: null });
await proxy.applyPlan({
  app: 'bench',
  version: 1,
  listen: { host: '', port: 0 },
  groups: [{ revision: 1, weight: 100, endpoints: [{ id: 'bench-1', host: '127.0.0.1', port: Number(upstreamPort) }] }],
  frontDoor: { hosts: [name!], paths: ['/'], tls: { cert: cert!, key: key! } },
});
await proxy.listenFrontDoor();
console.log('listening');
process.on('SIGTERM', () => void proxy.close().finally(() => process.exit(0)));
process.on('SIGINT', () => void proxy.close().finally(() => process.exit(0)));
