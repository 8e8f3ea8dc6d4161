import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { externalProgram } from './external-program.js';
import { findFreePort } from '../../src/runtime/local/free-port.js';

const found = externalProgram('prometheus');

/**
 * Why Prometheus tests skip: it is not installed. Under CI (CUTOVER_REQUIRE_EXTERNAL=1) a missing
 * binary fails them instead (`externalProgram` throws).
 */
export const prometheusSkip: string | false = 'skip' in found ? `skipped: ${found.skip}` : false;

/** A Prometheus the test runs on a free loopback port, scraping `targets` every second, in its own process group. */
export class TestPrometheus {
  private constructor(
    readonly child: ChildProcess,
    readonly address: string,
  ) {}

  static async start(dir: string, targets: string[]): Promise<TestPrometheus> {
    fs.mkdirSync(dir, { recursive: true });
    const port = await findFreePort();
    const configFile = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(
      configFile,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: cutover',
        '    static_configs:',
        `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const log = fs.openSync(path.join(dir, 'prometheus.log'), 'a');
    const child = spawn(
      'prometheus',
      [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
      { detached: true, stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    const address = `http://127.0.0.1:${port}`;
    const deadline = performance.now() + 30_000;
    while (
      !(await fetch(`${address}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (child.exitCode !== null || performance.now() > deadline) {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Gone.
        }
        throw new Error(`prometheus did not start: ${fs.readFileSync(path.join(dir, 'prometheus.log'), 'utf8').slice(-2000)}`);
      }
      await sleep(50);
    }
    return new TestPrometheus(child, address);
  }

  /** The value of an instant query, or null when it has no series yet. */
  async query(promql: string): Promise<number | null> {
    const response = await fetch(`${this.address}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
    const first = body.data?.result?.[0];
    return first ? Number(first.value[1]) : null;
  }

  /** Kills the process group this test started (by its pid, never by name). */
  async stop(): Promise<void> {
    if (this.child.pid === undefined || this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      return;
    }
    await exited;
  }
}
