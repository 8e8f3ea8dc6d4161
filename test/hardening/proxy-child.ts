/**
 * A ProxyServer alone in a child process, for the hardening tests: a crash or an unhandled
 * error there is visible (exit code, "UNHANDLED" on stderr) and its memory is its own.
 * Usage: node proxy-child.js UPSTREAM_PORT [OPTIONS_JSON]; prints "listening PORT".
 */
import { ProxyServer } from '../../src/proxy/index.js';
import type { ProxyOptions } from '../../src/proxy/index.js';

process.on('uncaughtException', (error) => {
  console.error(`UNHANDLED uncaughtException: ${error.stack ?? String(error)}`);
  process.exit(70);
});
process.on('unhandledRejection', (error) => {
  console.error(`UNHANDLED unhandledRejection: ${(error as Error)?.stack ?? String(error)}`);
  process.exit(70);
});

const upstreamPort = Number(process.argv[2]);
const options = JSON.parse(process.argv[3] ?? '{}') as Partial<ProxyOptions>;
const proxy = new ProxyServer(options);
await proxy.applyPlan({
  app: 'app',
  version: 1,
  listen: { host: '127.0.0.1', port: 0 },
  groups: [{ revision: 1, weight: 100, endpoints: [{ id: 'sentinel', host: '127.0.0.1', port: upstreamPort }] }],
});
console.log(`listening ${proxy.address('app')!.port}`);
process.on('SIGTERM', () => void proxy.close().finally(() => process.exit(0)));
