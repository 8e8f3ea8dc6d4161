import { spawn } from 'node:child_process';

/** What one wrk run reported. Latencies in milliseconds. */
export interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
  errors: number;
}

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationSeconds: number;
}

/** Runs `wrk --latency` and parses its report. Rejects when wrk fails or prints no report. */
export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['--latency', '-t', String(options.threads), '-c', String(options.connections), '-d', `${options.durationSeconds}s`, options.url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`wrk exited with ${code}: ${out}`);
        resolve(parseWrk(out));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

export function parseWrk(out: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  if (!total || !rate || !p50 || !p99) throw new Error(`cannot read wrk's report:\n${out}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return {
    requests: Number(total[1]),
    seconds: toMs(Number(total[2]), total[3]!) / 1000,
    requestsPerSecond: Number(rate[1]),
    p50Ms: toMs(Number(p50[1]), p50[2]!),
    p99Ms: toMs(Number(p99[1]), p99[2]!),
    errors,
  };
}

function toMs(value: number, unit: string): number {
  if (unit === 'us') return value / 1000;
  if (unit === 's') return value * 1000;
  if (unit === 'm') return value * 60_000;
  return value;
}
