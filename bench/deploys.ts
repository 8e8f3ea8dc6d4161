import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadClient, percentile, type LoadReport } from '../src/load/load-client.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, sampleAppConfig } from '../test/helpers/daemon-fixture.js';
import { repoRoot } from '../test/helpers/repo.js';

/**
 * Rolling deploys under load, side by side with the naive way (stop the old process, start
 * the new one on the same port), in one run on this machine. Prints requests, failures and
 * latency before and during the deploys.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { deploys: { type: 'string', default: '10' }, clients: { type: 'string', default: '32' }, 'warmup-ms': { type: 'string', default: '3000' } },
  });
  const deploys = Number(values.deploys);
  const clients = Number(values.clients);
  const warmupMs = Number(values['warmup-ms']);
  console.log(
    `deploys benchmark: ${deploys} deploys, ${clients} keep-alive clients (GET + 25% POST), 3 replicas behind cutover; peer: stop-then-start on one port\n`,
  );

  const cutover = await measureCutover(deploys, clients, warmupMs);
  const naive = await measureNaiveRestart(deploys, clients, warmupMs);

  const row = (name: string, phase: string, r: LoadReport, seconds: number): string[] => [
    name,
    phase,
    String(r.requests),
    String(r.failed),
    (r.requests / seconds).toFixed(0),
    percentile(r.latenciesMs, 50).toFixed(2),
    percentile(r.latenciesMs, 99).toFixed(2),
  ];
  const rows = [
    ['path', 'phase', 'requests', 'failed', 'req/s', 'p50 ms', 'p99 ms'],
    row('cutover rolling', 'before', cutover.before, cutover.beforeSeconds),
    row('cutover rolling', `during ${deploys} deploys`, cutover.during, cutover.duringSeconds),
    row('stop+start (peer)', 'before', naive.before, naive.beforeSeconds),
    row('stop+start (peer)', `during ${deploys} restarts`, naive.during, naive.duringSeconds),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  console.log(
    `\ncutover: ${cutover.during.failed} failed of ${cutover.during.requests} during deploys; peer: ${naive.during.failed} failed of ${naive.during.requests}`,
  );
  console.log(`deploy wall time: cutover ${(cutover.duringSeconds / deploys).toFixed(2)} s per deploy (3 instances replaced one by one)`);
}

interface Measured {
  before: LoadReport;
  during: LoadReport;
  beforeSeconds: number;
  duringSeconds: number;
}

async function measureCutover(deploys: number, clients: number, warmupMs: number): Promise<Measured> {
  const daemon = await DaemonFixture.start((port) => sampleAppConfig(port));
  try {
    const before = await loadFor(daemon.origin, clients, warmupMs);
    const load = new LoadClient({ origin: daemon.origin, clients, postShare: 0.25, maxDurationMs: 600_000 });
    load.start();
    const started = performance.now();
    for (let n = 2; n < deploys + 2; n++) {
      const result = await daemon.cli(['deploy', '--set', `web.run.env.VERSION=${n}`]);
      if (result.code !== 0) throw new Error(`deploy ${n} failed: ${result.stdout}${result.stderr}`);
    }
    const duringSeconds = (performance.now() - started) / 1000;
    return { before: before.report, beforeSeconds: before.seconds, during: await load.stop(), duringSeconds };
  } finally {
    await daemon.stop();
  }
}

async function measureNaiveRestart(deploys: number, clients: number, warmupMs: number): Promise<Measured> {
  const port = await findFreePort();
  let app = await startApp(port, 1);
  try {
    const origin = `http://127.0.0.1:${port}`;
    const before = await loadFor(origin, clients, warmupMs);
    const load = new LoadClient({ origin, clients, postShare: 0.25, maxDurationMs: 600_000 });
    load.start();
    const started = performance.now();
    for (let n = 2; n < deploys + 2; n++) {
      await stopApp(app);
      app = await startApp(port, n);
      // Match cutover's pace roughly: the peer's deploys are otherwise back to back.
      await sleep(500);
    }
    const duringSeconds = (performance.now() - started) / 1000;
    return { before: before.report, beforeSeconds: before.seconds, during: await load.stop(), duringSeconds };
  } finally {
    await stopApp(app);
  }
}

async function loadFor(origin: string, clients: number, ms: number): Promise<{ report: LoadReport; seconds: number }> {
  const load = new LoadClient({ origin, clients, postShare: 0.25, maxDurationMs: ms + 5_000 });
  const started = performance.now();
  load.start();
  await sleep(ms);
  const report = await load.stop();
  return { report, seconds: (performance.now() - started) / 1000 };
}

function startApp(port: number, version: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['server.js'], {
      cwd: path.join(repoRoot(), 'examples', 'demo'),
      env: { ...process.env, PORT: String(port), VERSION: String(version), CUTOVER_REVISION: String(version) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout!.once('data', () => resolve(child));
    child.once('error', reject);
  });
}

/** What a plain supervisor does: SIGTERM, and SIGKILL when the app is not gone within a second. */
function stopApp(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 1_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
