import { spawn } from 'node:child_process';
import fs from 'node:fs';

/** What one h2load run reported. Latencies in milliseconds, from h2load's per-request log. */
export interface H2loadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests that failed, errored or timed out, plus answers that were not 2xx/3xx. */
  errors: number;
}

export interface H2loadOptions {
  /** `https://NAME:PORT/`: NAME is sent as SNI and Host; the connection goes to `connectTo`. */
  url: string;
  connectTo: string;
  /** HTTP/1.1 (ALPN http/1.1) instead of HTTP/2. */
  isHttp1: boolean;
  clients: number;
  threads: number;
  /** Concurrent streams per HTTP/2 connection (1 for HTTP/1.1). */
  streams: number;
  /** A timed run with a warm-up, or a fixed number of requests (for new-connection runs). */
  durationSeconds?: number;
  warmupSeconds?: number;
  requests?: number;
  /** `Connection: close` on every request: one TLS handshake per request (HTTP/1.1 only). */
  isNewConnectionPerRequest?: boolean;
  /** Where h2load writes one line per request (start, status, duration in µs). */
  logFile: string;
  /** h2load is stopped (by its pid) after this long; some h2load builds hang at the end of a run. */
  timeoutMs: number;
}

/**
 * The TLS settings every peer is measured with, chosen by the client so that no server's
 * preferences decide: TLS 1.3, AES-128-GCM, X25519.
 */
const CLIENT_TLS = ['--tls13-ciphers=TLS_AES_128_GCM_SHA256', '--groups=X25519'];

/** The h2load command line for `options`, printed with the results. */
export function h2loadArgs(options: H2loadOptions): string[] {
  const args = ['-c', String(options.clients), '-t', String(options.threads), '-m', String(options.streams), ...CLIENT_TLS];
  if (options.isHttp1) args.push('--h1');
  if (options.isNewConnectionPerRequest) args.push('-H', 'Connection: close');
  if (options.requests !== undefined) args.push('-n', String(options.requests));
  else args.push('-D', String(options.durationSeconds ?? 8), `--warm-up-time=${options.warmupSeconds ?? 1}`);
  args.push(`--connect-to=${options.connectTo}`, `--log-file=${options.logFile}`, options.url);
  return args;
}

/** Runs h2load and reads its report and per-request log. Rejects when h2load fails, hangs or prints no report. */
export function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  fs.rmSync(options.logFile, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn('h2load', h2loadArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`h2load exited with ${code ?? signal}${signal ? ` (stopped after ${options.timeoutMs} ms)` : ''}: ${out.slice(-2000)}`);
        resolve(parseH2load(out, fs.readFileSync(options.logFile, 'utf8')));
      } catch (error) {
        reject(error as Error);
      } finally {
        fs.rmSync(options.logFile, { force: true });
      }
    });
  });
}

/** Reads h2load's summary and its `--log-file` (tab-separated: start µs, status, duration µs). */
export function parseH2load(out: string, log: string): H2loadResult {
  const finished = /finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/.exec(out);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!finished || !requests || !status) throw new Error(`cannot read h2load's report:\n${out.slice(-2000)}`);
  const durations = log
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((fields) => fields.length === 3 && Number(fields[1]) > 0)
    .map((fields) => Number(fields[2]) / 1000)
    .sort((a, b) => a - b);
  if (durations.length === 0) throw new Error(`h2load logged no request:\n${out.slice(-2000)}`);
  return {
    requests: Number(requests[4]),
    seconds: toMs(Number(finished[1]), finished[2]!) / 1000,
    requestsPerSecond: Number(finished[3]),
    p50Ms: percentile(durations, 0.5),
    p99Ms: percentile(durations, 0.99),
    // h2load counts errored and timed-out requests among the failed ones.
    errors: Number(requests[5]) + Number(status[3]) + Number(status[4]),
  };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function toMs(value: number, unit: string): number {
  if (unit === 'us') return value / 1000;
  if (unit === 's') return value * 1000;
  return value;
}
