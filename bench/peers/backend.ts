/**
 * The benchmark backend: a minimal Node.js `http` server answering every request with 200 and
 * about 100 bytes, as the peer figures in docs/benchmarks.md were measured. Listens on 127.0.0.1:$PORT and
 * prints "listening" once it does. Run by `bench/proxy.ts`, directly or as a cutover instance.
 */
import http from 'node:http';

const BODY = Buffer.from(`${'x'.repeat(92)} backend\n`);
const port = Number(process.env.PORT ?? 0);

const server = http.createServer((req, res) => {
  // A request body (none in the bench) is read and dropped.
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
});
// Longer than every proxy's idle timeout towards it, so no proxy meets a connection closed under it.
server.keepAliveTimeout = 30_000;
server.listen({ host: '127.0.0.1', port }, () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : port}`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
