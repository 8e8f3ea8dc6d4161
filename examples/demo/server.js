// A small web app for the demo and the tests: answers with its version, has a health check,
// and shuts down gracefully on SIGTERM. Environment knobs make it misbehave on purpose.
import http from 'node:http';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';

const version = process.env.VERSION ?? '1';
const revision = process.env.CUTOVER_REVISION ?? '?';
const broken = process.env.BROKEN ?? '';
// wrong-port: listen on some port the kernel picks, not the one cutover gave in $PORT.
// port-taken: listen on TAKEN_PORT, which another process holds (EADDRINUSE).
const port = broken === 'wrong-port' ? 0 : broken === 'port-taken' ? Number(process.env.TAKEN_PORT) : Number(process.env.PORT ?? 3000);
const recordFile = process.env.RECORD_POSTS;
// Every request but health checks, one line on arrival and one when answered, for mirroring tests.
const requestLog = process.env.RECORD_REQUESTS;
// MISBEHAVE=slow:MS answers every request (health checks aside) after MS; reset cuts the connection; 500 fails it.
const [misbehave, misbehaveArg] = (process.env.MISBEHAVE ?? '').split(':');
// ERROR_RATE=0.2 answers that share of requests (health checks aside) with a 500 marked
// x-demo-injected-error: 1, spread evenly, so analysis has something to catch.
const errorRate = Math.min(1, Math.max(0, Number(process.env.ERROR_RATE ?? 0)));
let errorCredit = 0;
// FAIL_DIR=dir: this instance answers 500 (health checks aside) while dir holds a file named
// after its port, so a test can make one instance of several misbehave while it stays healthy.
const failDir = process.env.FAIL_DIR;

if (broken === 'exit-at-once') {
  console.error('BROKEN=exit-at-once: giving up before listening');
  process.exit(3);
}
if (broken === 'exit-0') {
  // A long-running service that returns at once with success is still a failure.
  console.log('BROKEN=exit-0: nothing to do, bye');
  process.exit(0);
}

// Log floods, before listening: LOG_FLOOD_BYTES of short lines, or one line of LOG_LINE_BYTES,
// then a last word and exit 1 (so the reason a deploy gives can quote it).
const floodBytes = Number(process.env.LOG_FLOOD_BYTES ?? 0);
const lineBytes = Number(process.env.LOG_LINE_BYTES ?? 0);
if (floodBytes > 0 || lineBytes > 0) {
  const line = 'flooding the log with short lines\n';
  const lines = Buffer.alloc(line.length * Math.floor((1024 * 1024) / line.length), line);
  let written = 0;
  while (written < floodBytes) written += fs.writeSync(1, lines);
  const part = Buffer.alloc(1024 * 1024, 'y');
  for (let inLine = 0; inLine < lineBytes; inLine += part.length) written += fs.writeSync(1, part);
  if (lineBytes > 0) written += fs.writeSync(1, '\n');
  console.error(`BROKEN=log-flood: wrote ${written} bytes of log, giving up`);
  process.exit(1);
}

let isClosing = false;
// SIGUSR2 flips the health check to failing and back, to exercise unhealthy instances.
let isHealthy = broken !== 'never-ready';
// flapping: passes its checks for FLAP_MS, fails them for FLAP_MS, and so on.
if (broken === 'flapping') {
  const flapMs = Number(process.env.FLAP_MS ?? 500);
  setInterval(() => (isHealthy = !isHealthy), flapMs).unref();
}
process.on('SIGUSR2', () => {
  isHealthy = !isHealthy;
  console.log(`health check now ${isHealthy ? 'passing' : 'failing'}`);
});

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://app');
  // Once shutting down, tell keep-alive clients to go elsewhere after this answer.
  if (isClosing) res.setHeader('connection', 'close');
  const headers = { 'content-type': 'text/plain', 'x-cutover-revision': revision, 'x-app-version': version };
  if (url.pathname === '/healthz') {
    res.writeHead(isHealthy ? 200 : 503, headers).end(isHealthy ? 'ok\n' : 'not ready\n');
    return;
  }
  const mirrored = req.headers['x-cutover-mirror'] ?? '-';
  if (requestLog) {
    fs.appendFileSync(requestLog, `arrived ${req.method} ${req.url} mirror=${mirrored}\n`);
    res.on('finish', () => fs.appendFileSync(requestLog, `answered ${req.method} ${req.url} mirror=${mirrored}\n`));
  }
  if (errorRate > 0) {
    errorCredit += errorRate;
    if (errorCredit >= 1) {
      errorCredit -= 1;
      req.resume();
      res.writeHead(500, { ...headers, 'x-demo-injected-error': '1' }).end(`v${version} fails on purpose (ERROR_RATE=${errorRate})\n`);
      return;
    }
  }
  if (misbehave === 'reset') {
    req.socket.destroy();
    return;
  }
  if (misbehave === '500' || (failDir && fs.existsSync(`${failDir}/${server.address().port}`))) {
    req.resume();
    res.writeHead(500, headers).end(`v${version} fails on purpose\n`);
    return;
  }
  if (misbehave === 'slow') {
    const timer = setTimeout(() => res.writeHead(200, headers).end(`slow hello from v${version}\n`), Number(misbehaveArg ?? 5000));
    res.on('close', () => clearTimeout(timer));
    return;
  }
  if (url.pathname === '/events') {
    // Server-Sent Events: a tick every TICK_MS (200 by default) until the client goes.
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let n = 0;
    const tick = () => res.write(`data: tick ${n++} from v${version}\n\n`);
    tick();
    const timer = setInterval(tick, Number(process.env.TICK_MS ?? 200));
    res.on('close', () => clearInterval(timer));
    return;
  }
  if (url.pathname === '/slow') {
    const ms = Math.min(Number(url.searchParams.get('ms') ?? 2000), 30_000);
    setTimeout(() => res.writeHead(200, headers).end(`slow ${ms}ms done by v${version}\n`), ms);
    return;
  }
  if (req.method === 'POST') {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const id = req.headers['x-request-id'];
      if (recordFile && id) fs.appendFileSync(recordFile, `${id}\n`);
      res.writeHead(200, headers).end(`received ${Buffer.concat(chunks).length} bytes, v${version}\n`);
    });
    return;
  }
  res.writeHead(200, headers).end(`hello from v${version}\n`);
});

// GET /ws upgrades to a WebSocket that says hello, then sends a tick every TICK_MS, and answers
// a close frame with one of its own. Written by hand (no dependency): text frames only.
server.on('upgrade', (req, socket) => {
  const key = req.headers['sec-websocket-key'];
  if (new URL(req.url, 'http://app').pathname !== '/ws' || typeof key !== 'string') {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Cutover-Revision: ${revision}\r\n\r\n`);
  const send = (text) => {
    const payload = Buffer.from(text);
    socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
  };
  let n = 0;
  send(`hello from v${version} (revision ${revision})`);
  const timer = setInterval(() => send(`tick ${n++} from v${version}`), Number(process.env.TICK_MS ?? 200));
  socket.on('data', (chunk) => {
    // A close frame from the client (opcode 8): answer with an empty close frame and hang up.
    if ((chunk[0] & 0x0f) === 0x08) {
      clearInterval(timer);
      socket.end(Buffer.from([0x88, 0x00]));
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => clearInterval(timer));
});

// Short keep-alive provokes the proxy's keep-alive race on purpose in tests.
if (process.env.KEEPALIVE_MS) server.keepAliveTimeout = Number(process.env.KEEPALIVE_MS);

// HOST=0.0.0.0 in a container, where the pod's address is not loopback.
server.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`v${version} (revision ${revision}) listening on ${server.address().port}`));

if (broken === 'crash-after') {
  // Dies with an error code, but lets requests it already accepted finish first. Keep-alive
  // connections are told to close with their next answer, and only half a second later does the
  // server close (which also closes the idle ones): a request the proxy writes on a connection just
  // as it closes is a race no proxy can retry a POST from, so the app keeps that window small.
  setTimeout(() => {
    console.error('BROKEN=crash-after: crashing');
    isClosing = true;
    setTimeout(() => server.close(() => process.exit(1)), 500);
  }, Number(process.env.CRASH_AFTER_MS ?? 1500));
}

if (process.env.SPAWN_CHILD === '1') {
  // A helper process in the same process group, like a worker an app forks.
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  console.log(`child pid ${child.pid}`);
}

process.on('SIGTERM', () => {
  if (broken === 'ignore-sigterm') {
    console.log('BROKEN=ignore-sigterm: ignoring SIGTERM');
    return;
  }
  isClosing = true;
  // SIGTERM_DRAIN_MS: what a pod behind kube-proxy must do. Keep-alive connections go straight to
  // the pod, so each is told to close with its next answer, and only after that window are the
  // idle ones closed (closing them at once races a client writing its next request on them).
  const drainMs = Number(process.env.SIGTERM_DRAIN_MS ?? 0);
  setTimeout(() => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  }, drainMs);
});
