/**
 * cutover's `ProxyServer` alone in its own process, routing one app to one upstream: for
 * profiling (`node --cpu-prof dist/bench/peers/proxy-process.js LISTEN UPSTREAM`). The bench
 * itself measures the real daemon's workers.
 */
import { ProxyServer } from '../../src/proxy/index.js';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
const proxy = new ProxyServer();
await proxy.applyPlan({
  app: 'bench',
  version: 1,
  listen: { host: '127.0.0.1', port: listenPort! },
  groups: [{ revision: 1, weight: 100, endpoints: [{ id: 'bench-1', host: '127.0.0.1', port: upstreamPort! }] }],
});
console.log('listening');
// Exit through process.exit so that --cpu-prof writes its profile.
process.on('SIGTERM', () => void proxy.close().finally(() => process.exit(0)));
process.on('SIGINT', () => void proxy.close().finally(() => process.exit(0)));
