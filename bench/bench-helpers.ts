import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../test/helpers/repo.js';

/** A compiled bench script, by its path under `bench/`. */
export function distScript(relative: string): string {
  return path.join(repoRoot(), 'dist', 'bench', relative);
}

/** A program on PATH, or in /usr/sbin and /sbin (where Debian puts haproxy and nginx). */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

export function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${text}`);
  return n;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export function kilo(n: number): string {
  return `${(n / 1000).toFixed(1)}k`;
}

/** `name: value met|MISSED`, as every bench prints its targets. */
export function target(name: string, value: number, isMet: (v: number) => boolean, digits: number): string {
  return `${name}: ${value.toFixed(digits)} ${isMet(value) ? 'met' : 'MISSED'}`;
}

/** Prints rows as a Markdown table, the first row being the header. */
export function printMarkdownTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
    if (i === 0) console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  }
}

/**
 * The start of an nginx.conf both nginx peers share: in the foreground, 2 workers, its files in
 * `prefix`, no access log; ends inside the `http {` block.
 */
export function nginxPreamble(prefix: string): string[] {
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 2;',
    `pid ${path.join(prefix, 'nginx.pid')};`,
    `error_log ${path.join(prefix, 'error.log')} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fastcgi;`,
    `  uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;`,
  ];
}

/** The haproxy.cfg both HAProxy peers share: one thread, keep-alive both ways, `bind` as given, one backend server. */
export function haproxyConfig(bind: string, backendPort: number): string {
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4000',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  http-reuse always',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    'frontend bench',
    `  bind ${bind}`,
    '  default_backend app',
    'backend app',
    `  server s1 127.0.0.1:${backendPort}`,
    '',
  ].join('\n');
}

/**
 * The paths of round `round` (from 1), in turn: forward in odd rounds, backward in even ones, so
 * no path is always measured right after the same other one (a Node.js process that has just
 * served a load keeps collecting garbage on the other core for a moment, which would always tax
 * the same neighbour; a rotation would keep every path after the same one).
 *
 * @example inRoundOrder(['a', 'b', 'c'], 2) // ['c', 'b', 'a']
 */
export function inRoundOrder<T>(items: readonly T[], round: number): T[] {
  return round % 2 === 1 ? [...items] : [...items].reverse();
}
