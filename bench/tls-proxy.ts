import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_WORKERS } from '../src/daemon/primary.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { repoRoot } from '../test/helpers/repo.js';
import { makeCertificate } from '../test/helpers/test-certificates.js';
import { distScript, findProgram, haproxyConfig, inRoundOrder, kilo, median, nginxPreamble, printMarkdownTable, sum, target } from './bench-helpers.js';
import { h2loadArgs, runH2load, type H2loadOptions, type H2loadResult } from './h2load.js';
import { ManagedProcess, signalPid } from './managed-process.js';
import { childPids, cpuMicros, rssBytes } from './proc-stats.js';

/**
 * The TLS rows of `npm run bench -- proxy`: HAProxy, nginx and cutover's front door terminating
 * TLS with the same certificate (ECDSA P-256, made here with openssl) for the host
 * `bench.test`, in front of the same backend, measured with h2load (the one load generator
 * here that sends SNI; every proxy refuses or misroutes a handshake without it) in three loads:
 * HTTPS/1.1 keep-alive, HTTP/2 over TLS, and a new TLS connection per request. The client picks
 * TLS 1.3, AES-128-GCM and X25519, so no server's preferences change the work done.
 */

export const TLS_APT_LINE = 'apt-get install -y nghttp2-client openssl haproxy nginx';
const HOST = 'bench.test';

type Load = 'https1' | 'h2' | 'handshakes';
const LOADS: readonly { load: Load; label: string }[] = [
  { load: 'https1', label: 'HTTPS/1.1 keep-alive' },
  { load: 'h2', label: 'HTTP/2 over TLS' },
  { load: 'handshakes', label: 'new TLS connection per request' },
];

interface TlsPath {
  readonly key: string;
  readonly label: string;
  readonly port: number;
  /** The loads this path is measured under; all of them when absent. */
  readonly loads?: readonly Load[];
  pids(): number[];
  stop(): Promise<void>;
}

interface TlsSample {
  result: H2loadResult;
  cpuMicrosPerRequest: number;
  rssBytes: number;
}

export interface TlsBenchOptions {
  backendPort: number;
  workDir: string;
  rounds: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Concurrency of the keep-alive loads: HTTPS/1.1 connections, and HTTP/2 connections × streams. */
  connections: number;
  threads: number;
  /** Requests (so handshakes) per new-connection run. */
  handshakes: number;
  wants(key: string): boolean;
}

/** Starts the TLS peers and cutover's front door, measures them in rounds, prints one table per load. */
export async function runTlsRows(options: TlsBenchOptions): Promise<void> {
  const missing = ['h2load', 'openssl'].filter((p) => findProgram(p) === undefined);
  if (missing.length > 0) {
    console.log(`TLS rows skipped: ${missing.join(' and ')} not installed. Install with: ${TLS_APT_LINE}`);
    return;
  }
  const dir = path.join(options.workDir, 'tls');
  fs.mkdirSync(dir, { recursive: true });
  const cert = makeBenchCertificate(dir);
  const paths: TlsPath[] = [];
  const skipped: string[] = [];
  try {
    for (const [key, start] of [
      ['tls-haproxy', startHaproxyTls],
      ['tls-nginx', startNginxTls],
    ] as const) {
      if (!options.wants(key)) continue;
      const binary = findProgram(key.slice(4));
      if (binary === undefined) skipped.push(`${key.slice(4)} (not installed)`);
      else paths.push(await start(binary, options.backendPort, dir, cert));
    }
    if (options.wants('tls-proxy-server')) paths.push(await startFrontDoorProcess(options.backendPort, dir, cert));
    if (options.wants('tls-cutover')) paths.push(await startCutoverTls(dir, cert));
    if (options.wants('tls-node-floor')) paths.push(await startNodeTlsFloor(options.backendPort, dir, cert));
    if (paths.length === 0) return;

    const h2Clients = Math.max(options.threads, Math.round(options.connections / 5));
    const handshakeClients = Math.max(options.threads, Math.round(options.connections / 5));
    const loadOptions = (load: Load, port: number): H2loadOptions => ({
      url: `https://${HOST}:${port}/`,
      connectTo: `127.0.0.1:${port}`,
      isHttp1: load !== 'h2',
      clients: load === 'https1' ? options.connections : load === 'h2' ? h2Clients : handshakeClients,
      threads: options.threads,
      streams: load === 'h2' ? Math.max(1, Math.round(options.connections / h2Clients)) : 1,
      ...(load === 'handshakes'
        ? { requests: options.handshakes, isNewConnectionPerRequest: true }
        : { durationSeconds: options.durationSeconds, warmupSeconds: Math.max(1, options.warmupSeconds) }),
      logFile: path.join(dir, 'h2load.log'),
      timeoutMs: 120_000 + options.durationSeconds * 2_000,
    });

    const load1m = os.loadavg()[0]!.toFixed(1);
    console.log(
      `\nTLS: h2load, ${options.rounds} round(s) per path and load, paths in turn each round (backward in even rounds); same certificate, backend and TLS settings for every path; load average ${load1m}`,
    );
    for (const { load, label } of LOADS) console.log(`  ${label}: h2load ${h2loadArgs(loadOptions(load, 0)).join(' ').replace(/:0\b/g, ':PORT')}`);
    if (skipped.length > 0) console.log(`skipped: ${skipped.join(', ')}. Install them with: ${TLS_APT_LINE}`);
    console.log('');

    const samples = new Map<string, TlsSample[]>();
    for (let round = 1; round <= options.rounds; round++) {
      for (const { load, label } of LOADS) {
        for (const p of inRoundOrder(paths, round)) {
          if (p.loads !== undefined && !p.loads.includes(load)) continue;
          const sample = await measure(p, loadOptions(load, p.port));
          const key = `${load} ${p.key}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          console.log(
            `round ${round}/${options.rounds} ${label.padEnd(30)} ${p.label.padEnd(40)} ${sample.result.requestsPerSecond.toFixed(0).padStart(7)} req/s  ` +
              `p50 ${sample.result.p50Ms.toFixed(2)} ms  p99 ${sample.result.p99Ms.toFixed(2)} ms  ${sample.cpuMicrosPerRequest.toFixed(1)} µs CPU/req` +
              (sample.result.errors > 0 ? `  ${sample.result.errors} errors` : ''),
          );
        }
      }
    }
    for (const { load, label } of LOADS) printLoadTable(load, label, paths, samples);
  } finally {
    for (const p of paths.reverse()) await p.stop().catch(() => undefined);
  }
}

async function measure(p: TlsPath, options: H2loadOptions): Promise<TlsSample> {
  const pids = p.pids();
  const cpu = (): number => sum(pids.map(cpuMicros));
  let cpuBefore = cpu();
  // A timed run counts only the requests after its warm-up, so the CPU is read from then on too
  // (h2load starts the warm-up once connected: a few milliseconds of it may still be counted).
  const warmupMs = options.requests === undefined ? (options.warmupSeconds ?? 1) * 1000 : 0;
  const warmedUp = warmupMs > 0 ? setTimeout(() => (cpuBefore = cpu()), warmupMs) : undefined;
  const result = await runH2load(options).finally(() => clearTimeout(warmedUp));
  const cpuAfter = cpu();
  return { result, cpuMicrosPerRequest: (cpuAfter - cpuBefore) / Math.max(1, result.requests), rssBytes: sum(p.pids().map(rssBytes)) };
}

/** What the issue asks of cutover against HAProxy, per load. */
const TARGETS: Record<Load, { name: string; min: number }> = {
  https1: { name: '≥ 0.7× HAProxy req/s', min: 0.7 },
  h2: { name: '≥ 0.5× HAProxy req/s', min: 0.5 },
  handshakes: { name: '≥ 0.5× HAProxy handshakes/s', min: 0.5 },
};

function printLoadTable(load: Load, label: string, paths: TlsPath[], samples: Map<string, TlsSample[]>): void {
  const haproxy = samples.get(`${load} tls-haproxy`);
  const ratio = (s: TlsSample[], pick: (x: TlsSample) => number): number | undefined =>
    haproxy === undefined ? undefined : median(s.map((x, i) => pick(x) / pick(haproxy[i]!)));
  const unit = load === 'handshakes' ? 'handshakes/s' : 'req/s';
  const rows: string[][] = [['path', `${unit} median (min–max)`, 'p50 / p99 ms', '× HAProxy', 'p99 × HAProxy', 'CPU µs/req', 'RSS MB', 'errors']];
  const checks: string[] = [];
  for (const p of paths) {
    const s = samples.get(`${load} ${p.key}`);
    if (s === undefined) continue;
    const rps = s.map((x) => x.result.requestsPerSecond);
    const throughputRatio = ratio(s, (x) => x.result.requestsPerSecond);
    const p99Ratio = ratio(s, (x) => x.result.p99Ms);
    rows.push([
      p.label,
      `${rate(median(rps))} (${rate(Math.min(...rps))}–${rate(Math.max(...rps))})`,
      `${median(s.map((x) => x.result.p50Ms)).toFixed(2)} / ${median(s.map((x) => x.result.p99Ms)).toFixed(2)}`,
      throughputRatio === undefined ? '–' : throughputRatio.toFixed(2),
      p99Ratio === undefined ? '–' : p99Ratio.toFixed(2),
      median(s.map((x) => x.cpuMicrosPerRequest)).toFixed(1),
      (Math.max(...s.map((x) => x.rssBytes)) / 1024 / 1024).toFixed(0),
      String(sum(s.map((x) => x.result.errors))),
    ]);
    if (p.key.startsWith('tls-cutover') && throughputRatio !== undefined) {
      checks.push(`${p.label}: ${target(TARGETS[load].name, throughputRatio, (v) => v >= TARGETS[load].min, 2)}`);
    }
  }
  // What is left to Node.js itself: the daemon against the floor, paired per round like the HAProxy ratio.
  const floor = samples.get(`${load} tls-node-floor`);
  const daemon = samples.get(`${load} tls-cutover`);
  if (floor !== undefined && daemon !== undefined) {
    const ofFloor = median(daemon.map((x, i) => x.result.requestsPerSecond / floor[i]!.result.requestsPerSecond));
    checks.push(
      `cutover daemon: ${ofFloor.toFixed(2)}× the Node.js floor's req/s (the floor itself: ${ratio(floor, (x) => x.result.requestsPerSecond)?.toFixed(2) ?? '–'}× HAProxy)`,
    );
  }
  console.log(`\n${label}\n`);
  printMarkdownTable(rows);
  for (const check of checks) console.log(check);
}

/** Thousands as `12.3k`; below a thousand (handshakes on a busy machine) whole numbers. */
function rate(n: number): string {
  return n >= 1000 ? kilo(n) : n.toFixed(0);
}

// --- the certificate and the peers ------------------------------------------------------------

interface BenchCertificate {
  cert: string;
  key: string;
  /** Certificate then key in one file, as HAProxy reads them. */
  combined: string;
}

function makeBenchCertificate(dir: string): BenchCertificate {
  const { cert, key, pem } = makeCertificate(dir, 'bench', [HOST], 2);
  const combined = path.join(dir, 'combined.pem');
  fs.writeFileSync(combined, pem + fs.readFileSync(key, 'utf8'), { mode: 0o600 });
  // nginx's workers run as another user when started as root; they read the files at start only.
  fs.chmodSync(dir, 0o755);
  return { cert, key, combined };
}

async function startHaproxyTls(binary: string, backendPort: number, dir: string, cert: BenchCertificate): Promise<TlsPath> {
  const port = await findFreePort();
  const config = path.join(dir, 'haproxy-tls.cfg');
  fs.writeFileSync(config, haproxyConfig(`127.0.0.1:${port} ssl crt ${cert.combined} alpn h2,http/1.1`, backendPort));
  const haproxy = ManagedProcess.start('haproxy-tls', binary, ['-db', '-f', config], dir);
  await waitForHttps(port, cert.cert, haproxy);
  return { key: 'tls-haproxy', label: 'HAProxy, 1 thread', port, pids: () => [haproxy.pid], stop: () => haproxy.stop() };
}

async function startNginxTls(binary: string, backendPort: number, dir: string, cert: BenchCertificate): Promise<TlsPath> {
  const port = await findFreePort();
  const prefix = path.join(dir, 'nginx');
  fs.mkdirSync(prefix, { recursive: true });
  fs.chmodSync(prefix, 0o777);
  const config = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(
    config,
    [
      ...nginxPreamble(prefix),
      `  upstream app { server 127.0.0.1:${backendPort}; keepalive 128; }`,
      // nginx closes a client connection after 1000 requests by default; the others never do.
      '  keepalive_requests 100000000;',
      '  server {',
      `    listen 127.0.0.1:${port} ssl http2;`,
      `    server_name ${HOST};`,
      `    ssl_certificate ${cert.cert}; ssl_certificate_key ${cert.key};`,
      // nginx 1.22 offers TLS 1.2 at most unless told (1.23.4 added 1.3 to the default).
      '    ssl_protocols TLSv1.2 TLSv1.3;',
      '    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const nginx = ManagedProcess.start('nginx-tls', binary, ['-p', prefix, '-c', config, '-e', path.join(prefix, 'error.log')], dir);
  await waitForHttps(port, cert.cert, nginx);
  return {
    key: 'tls-nginx',
    label: 'nginx, 2 workers',
    port,
    pids: () => [nginx.pid, ...childPids(nginx.pid)],
    stop: async () => {
      const workers = childPids(nginx.pid);
      await nginx.stop('SIGTERM');
      for (const pid of workers) signalPid(pid, 'SIGKILL');
    },
  };
}

/** cutover's ProxyServer with the front door, alone in a process, in front of the shared backend like every peer. */
async function startFrontDoorProcess(backendPort: number, dir: string, cert: BenchCertificate): Promise<TlsPath> {
  const port = await findFreePort();
  const args = [distScript('peers/front-door-process.js'), String(port), String(backendPort), HOST, cert.cert, cert.key];
  const proxy = ManagedProcess.start('front-door-process', process.execPath, args, dir);
  await waitForHttps(port, cert.cert, proxy);
  return { key: 'tls-proxy-server', label: 'cutover ProxyServer, own process', port, pids: () => [proxy.pid], stop: () => proxy.stop() };
}

/**
 * The least a Node.js proxy does over TLS (bench/peers/node-tls-floor.ts), measured under the
 * keep-alive loads (HTTPS/1.1 and HTTP/2): what Node's TLS and `http2` allow on this machine,
 * beside what cutover reaches.
 */
async function startNodeTlsFloor(backendPort: number, dir: string, cert: BenchCertificate): Promise<TlsPath> {
  const port = await findFreePort();
  const floor = ManagedProcess.start(
    'node-tls-floor',
    process.execPath,
    [distScript('peers/node-tls-floor.js'), String(port), String(backendPort), cert.cert, cert.key],
    dir,
  );
  await waitForHttps(port, cert.cert, floor);
  return { key: 'tls-node-floor', label: 'Node.js floor (no checks)', port, loads: ['https1', 'h2'], pids: () => [floor.pid], stop: () => floor.stop() };
}

/**
 * cutover as users run it: `cutover up` with the default worker count, the front door's TLS
 * listener and one app on host bench.test whose instance is the backend program (so, as in the
 * plain rows, its own backend: see bench/proxy.ts on why that instance is slower).
 */
async function startCutoverTls(dir: string, cert: BenchCertificate): Promise<TlsPath> {
  const port = await findFreePort();
  const appDir = path.join(dir, 'cutover');
  fs.mkdirSync(appDir, { recursive: true });
  const configPath = path.join(appDir, 'cutover.yaml');
  fs.writeFileSync(
    configPath,
    [
      'proxy:',
      '  listen:',
      `    https: 127.0.0.1:${port}`,
      'apps:',
      '  bench:',
      `    hosts: [${HOST}]`,
      `    tls: { cert: ${JSON.stringify(cert.cert)}, key: ${JSON.stringify(cert.key)} }`,
      '    run:',
      `      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(distScript('peers/backend.js'))}]`,
      '    health: { path: /, interval: 1s }',
      '',
    ].join('\n'),
  );
  const bin = path.join(repoRoot(), 'bin', 'cutover.js');
  const daemon = ManagedProcess.start('cutover-tls', process.execPath, [bin, 'up', '-c', configPath, '--data-dir', path.join(appDir, 'data')], dir);
  await waitForHttps(port, cert.cert, daemon, 30_000);
  const instancePids = (): number[] => childPids(daemon.pid).flatMap((pid) => childPids(pid, 'backend.js'));
  const seenInstances = new Set(instancePids());
  return {
    key: 'tls-cutover',
    label: `cutover daemon, ${DEFAULT_WORKERS} proxy worker${DEFAULT_WORKERS === 1 ? '' : 's'} (default)`,
    port,
    pids: () => [daemon.pid, ...childPids(daemon.pid, 'worker-main')],
    stop: async () => {
      for (const pid of instancePids()) seenInstances.add(pid);
      await daemon.stop('SIGTERM', 20_000);
      for (const pid of seenInstances) signalPid(pid, 'SIGKILL');
    },
  };
}

/** Resolves once `https://bench.test:PORT/` (trusting only `caFile`) answers 200. */
async function waitForHttps(port: number, caFile: string, owner: ManagedProcess, timeoutMs = 15_000): Promise<void> {
  const ca = fs.readFileSync(caFile);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!owner.isRunning) throw new Error(`${owner.name} exited while starting:\n${owner.logTail()}`);
    if ((await httpsStatus(port, ca)) === 200) return;
    if (performance.now() > deadline) throw new Error(`${owner.name} did not answer 200 over TLS within ${timeoutMs} ms:\n${owner.logTail()}`);
    await sleep(50);
  }
}

function httpsStatus(port: number, ca: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, servername: HOST, headers: { host: HOST }, ca, agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
  });
}
