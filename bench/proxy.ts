import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_WORKERS } from '../src/daemon/primary.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { repoRoot } from '../test/helpers/repo.js';
import {
  distScript,
  findProgram,
  haproxyConfig,
  inRoundOrder,
  kilo,
  median,
  nginxPreamble,
  positive,
  printMarkdownTable,
  sum,
  target,
} from './bench-helpers.js';
import { ManagedProcess, killAllStarted, signalPid, waitForHttp } from './managed-process.js';
import { childPids, cpuMicros, rssBytes } from './proc-stats.js';
import { runTlsRows } from './tls-proxy.js';
import { runWrk, type WrkResult } from './wrk.js';

/**
 * The data-plane benchmark (`npm run bench -- proxy`): the same wrk load against the backend
 * directly, HAProxy (1 thread), nginx (2 workers, upstream keepalive), `http-proxy` with a
 * keep-alive agent, cutover's proxy as the real daemon's data plane (once per worker count
 * asked for) and its ProxyServer alone in a process, in rounds (A B C … A B C …) on this machine. Prints req/s, p50/p99, the proxy's
 * CPU microseconds per request (from /proc), its memory, and ratios against HAProxy and
 * http-proxy paired per round. Peers whose programs are missing are skipped, and said so. Then
 * the TLS rows (bench/tls-proxy.ts): HTTPS/1.1, HTTP/2 and new TLS connections through HAProxy,
 * nginx and cutover's front door, with h2load. `--only tls` runs those alone.
 */

const APT_LINE = 'apt-get install -y haproxy nginx wrk';

interface BenchPath {
  readonly key: string;
  readonly label: string;
  readonly url: string;
  /** The processes whose CPU and memory count as the proxy's; empty for the direct path. */
  pids(): number[];
  stop(): Promise<void>;
}

interface Sample {
  wrk: WrkResult;
  cpuMicrosPerRequest: number | undefined;
  rssBytes: number | undefined;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '8' },
      connections: { type: 'string', default: '50' },
      threads: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '2' },
      workers: { type: 'string', default: '1,2' },
      handshakes: { type: 'string', default: '2000' },
      only: { type: 'string' },
    },
  });
  const rounds = positive(values.rounds, '--rounds');
  const durationSeconds = positive(values.duration, '--duration');
  const connections = positive(values.connections, '--connections');
  const threads = positive(values.threads, '--threads');
  const warmupSeconds = Number(values.warmup);
  const workerCounts = values.workers.split(',').map((n) => positive(n, '--workers'));
  const handshakes = positive(values.handshakes, '--handshakes');
  const only = values.only?.split(',');
  const wants = (key: string): boolean => only === undefined || only.some((k) => key === k || key.startsWith(`${k}-`));

  const wrk = findProgram('wrk');
  if (wrk === undefined) {
    console.error(`wrk is not installed; the proxy bench needs it. On Debian: ${APT_LINE}`);
    process.exitCode = 1;
    return;
  }

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-'));
  const onSignal = (): void => {
    killAllStarted();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const paths: BenchPath[] = [];
  const skipped: string[] = [];
  try {
    const backend = await startBackend(workDir);
    const backendUrl = `http://127.0.0.1:${backend.port}/`;
    if (wants('direct')) paths.push({ key: 'direct', label: 'direct to backend, 1 process', url: backendUrl, pids: () => [], stop: async () => {} });

    if (wants('haproxy')) {
      const haproxy = findProgram('haproxy');
      if (haproxy === undefined) skipped.push('HAProxy (not installed)');
      else paths.push(await startHaproxy(haproxy, backend.port, workDir));
    }
    if (wants('nginx')) {
      const nginx = findProgram('nginx');
      if (nginx === undefined) skipped.push('nginx (not installed)');
      else paths.push(await startNginx(nginx, backend.port, workDir));
    }
    if (wants('http-proxy')) paths.push(await startHttpProxy(backend.port, workDir));
    if (wants('proxy-server')) paths.push(await startProxyServerProcess(backend.port, workDir));
    for (const workers of workerCounts) {
      if (wants(`cutover-${workers}`)) paths.push(await startCutover(workers, workDir));
    }

    console.log(
      `proxy benchmark: wrk -t${threads} -c${connections}, ${rounds} round(s) of ${durationSeconds} s per path, paths in turn each round (backward in even rounds); ` +
        `backend: one Node.js http process answering 200 with ${100} bytes, in its own session; ${os.cpus().length} cores shared by load, proxies and backend; ` +
        `load average ${loadAverage()}`,
    );
    if (skipped.length > 0) console.log(`skipped: ${skipped.join(', ')}. Install them with: ${APT_LINE}`);
    console.log('');

    const load = { threads, connections };
    if (warmupSeconds > 0) {
      for (const p of paths) await runWrk({ url: p.url, ...load, durationSeconds: warmupSeconds });
    }
    const samples = new Map<string, Sample[]>(paths.map((p) => [p.key, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const p of inRoundOrder(paths, round)) {
        const sample = await measure(p, { ...load, durationSeconds });
        samples.get(p.key)!.push(sample);
        console.log(
          `round ${round}/${rounds} ${p.label.padEnd(44)} ${sample.wrk.requestsPerSecond.toFixed(0).padStart(7)} req/s  ` +
            `p50 ${sample.wrk.p50Ms.toFixed(2)} ms  p99 ${sample.wrk.p99Ms.toFixed(2)} ms` +
            (sample.cpuMicrosPerRequest === undefined ? '' : `  ${sample.cpuMicrosPerRequest.toFixed(1)} µs CPU/req`) +
            (sample.wrk.errors > 0 ? `  ${sample.wrk.errors} errors` : ''),
        );
      }
    }
    console.log(`\nload average after the rounds ${loadAverage()}\n`);
    if (paths.length > 0) printTable(paths, samples);
    await runTlsRows({ backendPort: backend.port, workDir, rounds, durationSeconds, warmupSeconds, connections, threads, handshakes, wants });
  } finally {
    for (const p of paths.reverse()) await p.stop().catch(() => undefined);
    killAllStarted();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

async function measure(p: BenchPath, options: { threads: number; connections: number; durationSeconds: number }): Promise<Sample> {
  const pids = p.pids();
  const cpuBefore = sum(pids.map(cpuMicros));
  const wrk = await runWrk({ url: p.url, ...options });
  const cpuAfter = sum(pids.map(cpuMicros));
  if (pids.length === 0) return { wrk, cpuMicrosPerRequest: undefined, rssBytes: undefined };
  return { wrk, cpuMicrosPerRequest: (cpuAfter - cpuBefore) / Math.max(1, wrk.requests), rssBytes: sum(p.pids().map(rssBytes)) };
}

function printTable(paths: BenchPath[], samples: Map<string, Sample[]>): void {
  const reference = (key: string): Sample[] | undefined => samples.get(key);
  const haproxy = reference('haproxy');
  const httpProxy = reference('http-proxy');
  const rows: string[][] = [['path', 'req/s median (min–max)', 'p50 / p99 ms', '× HAProxy', '× http-proxy', 'p99 × HAProxy', 'CPU µs/req', 'RSS MB', 'errors']];
  for (const p of paths) {
    const s = samples.get(p.key)!;
    const rps = s.map((x) => x.wrk.requestsPerSecond);
    const cpu = s.map((x) => x.cpuMicrosPerRequest).filter((x): x is number => x !== undefined);
    const rss = s.map((x) => x.rssBytes).filter((x): x is number => x !== undefined);
    rows.push([
      p.label,
      `${kilo(median(rps))} (${kilo(Math.min(...rps))}–${kilo(Math.max(...rps))})`,
      `${median(s.map((x) => x.wrk.p50Ms)).toFixed(2)} / ${median(s.map((x) => x.wrk.p99Ms)).toFixed(2)}`,
      pairedRatio(s, haproxy, (x) => x.wrk.requestsPerSecond),
      pairedRatio(s, httpProxy, (x) => x.wrk.requestsPerSecond),
      pairedRatio(s, haproxy, (x) => x.wrk.p99Ms),
      cpu.length > 0 ? median(cpu).toFixed(1) : '–',
      rss.length > 0 ? (Math.max(...rss) / 1024 / 1024).toFixed(0) : '–',
      String(sum(s.map((x) => x.wrk.errors))),
    ]);
  }
  printMarkdownTable(rows);
  console.log(
    '\nRatios are medians of per-round ratios (same round, same load). CPU counts every process of the proxy (nginx master + workers; cutover primary + proxy workers, not the controller).',
  );

  // The daemon's targets (docs/benchmarks.md): ≥ 0.75× HAProxy's req/s, ≤ 28 µs CPU per request, p99 ≤ 1.3× HAProxy's.
  for (const p of paths.filter((x) => x.key.startsWith('cutover-') || x.key === 'proxy-server')) {
    const s = samples.get(p.key)!;
    const checks: string[] = [];
    if (haproxy) {
      checks.push(
        target(
          '≥ 0.75× HAProxy req/s',
          medianRatio(s, haproxy, (x) => x.wrk.requestsPerSecond),
          (v) => v >= 0.75,
          2,
        ),
      );
      checks.push(
        target(
          'p99 ≤ 1.3× HAProxy',
          medianRatio(s, haproxy, (x) => x.wrk.p99Ms),
          (v) => v <= 1.3,
          2,
        ),
      );
    }
    if (httpProxy)
      checks.push(
        target(
          '≥ 2× http-proxy req/s',
          medianRatio(s, httpProxy, (x) => x.wrk.requestsPerSecond),
          (v) => v >= 2,
          2,
        ),
      );
    const cpu = s.map((x) => x.cpuMicrosPerRequest).filter((x): x is number => x !== undefined);
    checks.push(target('≤ 28 µs CPU/req', median(cpu), (v) => v <= 28, 1));
    console.log(`${p.label}: ${checks.join('; ')}`);
  }
}

/** The 1, 5 and 15 minute load averages: the bench machines are shared, so every run says how busy it was. */
function loadAverage(): string {
  return os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
}

function medianRatio(s: Sample[], ref: Sample[], pick: (x: Sample) => number): number {
  return median(s.map((x, i) => pick(x) / pick(ref[i]!)));
}

function pairedRatio(s: Sample[], ref: Sample[] | undefined, pick: (x: Sample) => number): string {
  return ref === undefined ? '–' : medianRatio(s, ref, pick).toFixed(2);
}

// --- peers -----------------------------------------------------------------------------------

/**
 * The backend every peer and the ProxyServer row forward to. It runs in its own session
 * (`detached`), as cutover starts every instance, so the daemon rows, behind such an instance,
 * meet the same scheduling as the peers: with the kernel's scheduler autogroups a backend in
 * another session than the proxy and wrk halved HAProxy's throughput here as much as cutover's
 * (measured: 9.1k vs 4.7k req/s for HAProxy, 6.2k vs 2.8k for the ProxyServer, same run).
 */
async function startBackend(workDir: string): Promise<{ port: number }> {
  const port = await findFreePort();
  const backend = ManagedProcess.start('backend', process.execPath, [distScript('peers/backend.js')], workDir, {
    env: { ...process.env, PORT: String(port) },
    detached: true,
  });
  await waitForHttp(`http://127.0.0.1:${port}/`, 15_000, backend);
  return { port };
}

async function startHaproxy(binary: string, backendPort: number, workDir: string): Promise<BenchPath> {
  const port = await findFreePort();
  const config = path.join(workDir, 'haproxy.cfg');
  fs.writeFileSync(config, haproxyConfig(`127.0.0.1:${port}`, backendPort));
  const haproxy = ManagedProcess.start('haproxy', binary, ['-db', '-f', config], workDir);
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(url, 15_000, haproxy);
  return { key: 'haproxy', label: 'HAProxy, 1 thread', url, pids: () => [haproxy.pid], stop: () => haproxy.stop() };
}

async function startNginx(binary: string, backendPort: number, workDir: string): Promise<BenchPath> {
  const port = await findFreePort();
  const prefix = path.join(workDir, 'nginx');
  fs.mkdirSync(prefix, { recursive: true });
  fs.chmodSync(workDir, 0o755);
  fs.chmodSync(prefix, 0o777);
  const config = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(
    config,
    [
      ...nginxPreamble(prefix),
      // Pool sized to the load: BENCHMARKS.md saw nginx lose 26 % with a smaller one.
      `  upstream app { server 127.0.0.1:${backendPort}; keepalive 128; }`,
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const nginx = ManagedProcess.start('nginx', binary, ['-p', prefix, '-c', config, '-e', path.join(prefix, 'error.log')], workDir);
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(url, 15_000, nginx);
  const pids = (): number[] => [nginx.pid, ...childPids(nginx.pid)];
  return {
    key: 'nginx',
    label: 'nginx, 2 workers, upstream keepalive',
    url,
    pids,
    stop: async () => {
      const workers = childPids(nginx.pid);
      await nginx.stop('SIGTERM');
      for (const pid of workers) signalPid(pid, 'SIGKILL');
    },
  };
}

async function startHttpProxy(backendPort: number, workDir: string): Promise<BenchPath> {
  const port = await findFreePort();
  const proxy = ManagedProcess.start('http-proxy', process.execPath, [distScript('peers/http-proxy-peer.js'), String(port), String(backendPort)], workDir);
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(url, 15_000, proxy);
  return { key: 'http-proxy', label: 'http-proxy, keep-alive agent', url, pids: () => [proxy.pid], stop: () => proxy.stop() };
}

/** cutover's ProxyServer alone in its own process (no daemon), in front of the shared backend. */
async function startProxyServerProcess(backendPort: number, workDir: string): Promise<BenchPath> {
  const port = await findFreePort();
  const proxy = ManagedProcess.start('proxy-server', process.execPath, [distScript('peers/proxy-process.js'), String(port), String(backendPort)], workDir);
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(url, 15_000, proxy);
  return { key: 'proxy-server', label: 'cutover ProxyServer, own process', url, pids: () => [proxy.pid], stop: () => proxy.stop() };
}

/**
 * cutover as users run it: `cutover up` in the foreground with one app whose instance is the
 * same backend program; the proxy's processes are the primary and its proxy workers. The
 * instance runs in its own session (cutover starts instances detached, in their own process
 * group), like the shared backend of the other rows (see `startBackend`).
 */
async function startCutover(workers: number, workDir: string): Promise<BenchPath> {
  const port = await findFreePort();
  const dir = path.join(workDir, `cutover-${workers}`);
  fs.mkdirSync(dir, { recursive: true });
  const configPath = path.join(dir, 'cutover.yaml');
  fs.writeFileSync(
    configPath,
    [
      'apps:',
      '  bench:',
      `    listen: 127.0.0.1:${port}`,
      '    run:',
      `      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(distScript('peers/backend.js'))}]`,
      '    health: { path: /, interval: 1s }',
      '',
    ].join('\n'),
  );
  const bin = path.join(repoRoot(), 'bin', 'cutover.js');
  const daemon = ManagedProcess.start(
    `cutover-${workers}`,
    process.execPath,
    [bin, 'up', '-c', configPath, '--data-dir', path.join(dir, 'data'), '--workers', String(workers)],
    workDir,
  );
  const url = `http://127.0.0.1:${port}/`;
  await waitForHttp(url, 30_000, daemon);
  const instancePids = (): number[] => childPids(daemon.pid).flatMap((pid) => childPids(pid, 'backend.js'));
  const seenInstances = new Set(instancePids());
  return {
    key: `cutover-${workers}`,
    label: `cutover daemon, ${workers} proxy worker${workers === 1 ? '' : 's'}${workers === DEFAULT_WORKERS ? ' (default)' : ''}`,
    url,
    pids: () => [daemon.pid, ...childPids(daemon.pid, 'worker-main')],
    stop: async () => {
      for (const pid of instancePids()) seenInstances.add(pid);
      // SIGTERM: the controller drains and stops the instance, then the daemon exits.
      await daemon.stop('SIGTERM', 20_000);
      for (const pid of seenInstances) signalPid(pid, 'SIGKILL');
    },
  };
}
