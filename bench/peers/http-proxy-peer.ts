/**
 * The `http-proxy` peer: the npm package with a keep-alive agent (as shipped it opens a new
 * upstream connection per request, which BENCHMARKS.md measured at 0.09x HAProxy).
 * Usage: node http-proxy-peer.js LISTEN_PORT UPSTREAM_PORT
 */
import http from 'node:http';
import httpProxy from 'http-proxy';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${upstreamPort}`, agent });
proxy.on('error', (_error, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.listen({ host: '127.0.0.1', port: listenPort }, () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
