import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture } from '../test/helpers/daemon-fixture.js';
import { childPids, cpuMicros, memoryBreakdown, rssBytes } from './proc-stats.js';

/**
 * What the daemon costs while nothing moves, and how long a deploy takes beside the time the
 * app itself needs: RSS per daemon process, idle CPU over a window at several fleet sizes, the
 * time `up --detach` takes, and a rolling deploy of an app with a known readiness delay.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      apps: { type: 'string', default: '1,10,40,100' },
      'idle-seconds': { type: 'string', default: '30' },
      'ready-delay-ms': { type: 'string', default: '200' },
      deploys: { type: 'string', default: '3' },
      /** `up --workers N`; absent: the daemon's default. */
      workers: { type: 'string' },
    },
  });
  const sizes = String(values.apps)
    .split(',')
    .map((n) => Number(n));
  const idleSeconds = Number(values['idle-seconds']);
  const readyDelayMs = Number(values['ready-delay-ms']);
  const upArgs = values.workers === undefined ? [] : ['--workers', String(Number(values.workers))];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-bench-'));
  const appFile = writeDelayedApp(dir);
  console.log(
    `daemon benchmark: apps with 2 instances each (1 app: 1 instance), health interval 1s, idle CPU over ${idleSeconds}s, no traffic, ${values.workers ?? 'default'} proxy worker(s)`,
  );
  console.log('memory: RSS per process as ps shows it; private = pages only the daemon holds; held = private + the shared node binary counted once\n');
  try {
    const rows = [
      [
        'apps',
        'instances',
        'up --detach s',
        'RSS primary MB',
        'RSS workers MB',
        'RSS controller MB',
        'RSS total MB',
        'private MB',
        'held MB',
        'idle CPU % of a core',
      ],
    ];
    for (const apps of sizes) rows.push(await measureIdle(appFile, apps, idleSeconds, upArgs));
    printTable(rows);
    console.log();
    await measureDeploy(appFile, readyDelayMs, Number(values.deploys));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A server that starts listening READY_DELAY_MS after its process started: its readiness delay is known. */
function writeDelayedApp(dir: string): string {
  const file = path.join(dir, 'delayed-app.mjs');
  fs.writeFileSync(
    file,
    [
      "import http from 'node:http';",
      'const server = http.createServer((req, res) => res.end(`ok ${process.env.CUTOVER_REVISION}\\n`));',
      "process.on('SIGTERM', () => server.close(() => process.exit(0)));",
      'setTimeout(() => server.listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1"), Number(process.env.READY_DELAY_MS ?? 0));',
    ].join('\n'),
  );
  return file;
}

function appConfig(appFile: string, name: string, port: number, replicas: number, env: Record<string, string>): string[] {
  return [
    `  ${name}:`,
    `    listen: 127.0.0.1:${port}`,
    `    run: { command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(appFile)}], env: ${JSON.stringify(env)} }`,
    `    replicas: ${replicas}`,
    '    health: { path: /, interval: 1s, timeout: 1s, startupTimeout: 30s }',
    '    drainTimeout: 5s',
    '    strategy: { rolling: { maxSurge: 1, maxUnavailable: 0 } }',
  ];
}

async function fleetConfig(appFile: string, apps: number, env: Record<string, string> = {}): Promise<(port: number) => string> {
  // A free port is free only until someone binds it: ask until the apps have different ones,
  // with one spare in case the fixture's own port is among them.
  const ports = new Set<number>();
  while (ports.size < apps) ports.add(await findFreePort());
  const replicas = apps === 1 ? 1 : 2;
  return (port) => {
    const others = [...ports].filter((p) => p !== port).slice(0, apps - 1);
    return ['apps:', ...[port, ...others].flatMap((p, i) => appConfig(appFile, `app${i}`, p, replicas, env))].join('\n');
  };
}

/** The primary and its direct children (proxy workers, controller), by role. */
function daemonProcesses(daemon: DaemonFixture): { primary: number; workers: number[]; controller: number[] } {
  const primary = Number(fs.readFileSync(path.join(daemon.dataDir, 'daemon.pid'), 'utf8'));
  return { primary, workers: childPids(primary, 'worker-main'), controller: childPids(primary, 'controller-main') };
}

async function measureIdle(appFile: string, apps: number, idleSeconds: number, upArgs: string[]): Promise<string[]> {
  const started = performance.now();
  const daemon = await DaemonFixture.start(await fleetConfig(appFile, apps), { upArgs });
  const upSeconds = (performance.now() - started) / 1000;
  try {
    // Let start-up work (first checks, first measurements) settle before the idle window.
    await sleep(3_000);
    const { primary, workers, controller } = daemonProcesses(daemon);
    const all = [primary, ...workers, ...controller];
    const cpuOf = (pids: number[]): number => pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
    const before = [cpuOf([primary]), cpuOf(workers), cpuOf(controller)];
    const windowStarted = performance.now();
    await sleep(idleSeconds * 1000);
    const windowMicros = (performance.now() - windowStarted) * 1000;
    const used = [cpuOf([primary]), cpuOf(workers), cpuOf(controller)].map((micros, i) => micros - before[i]!);
    const share = (micros: number): string => ((micros / windowMicros) * 100).toFixed(1);
    const mb = (pids: number[]): number => pids.reduce((sum, pid) => sum + rssBytes(pid), 0) / 1024 / 1024;
    const memory = all.map((pid) => memoryBreakdown(pid));
    const privateMb = memory.reduce((sum, m) => sum + m.privateBytes, 0) / 1024 / 1024;
    // The processes map the same node binary and libraries: shared pages counted once.
    const heldMb = privateMb + Math.max(...memory.map((m) => m.sharedBytes)) / 1024 / 1024;
    const instances = (await daemon.status()).apps.reduce((sum, app) => sum + app.instances.length, 0);
    return [
      String(apps),
      String(instances),
      upSeconds.toFixed(1),
      mb([primary]).toFixed(0),
      mb(workers).toFixed(0),
      mb(controller).toFixed(0),
      mb(all).toFixed(0),
      privateMb.toFixed(0),
      heldMb.toFixed(0),
      share(used.reduce((a, b) => a + b, 0)),
      used.map(share).join(' / '),
    ];
  } finally {
    await daemon.stop();
  }
}

/** How long the app itself takes from spawn to accepting connections, measured by polling every 2 ms. */
async function appReadyMs(appFile: string, readyDelayMs: number): Promise<number> {
  const port = await findFreePort();
  const started = performance.now();
  const child = spawn(process.execPath, [appFile], { env: { ...process.env, PORT: String(port), READY_DELAY_MS: String(readyDelayMs) }, stdio: 'ignore' });
  try {
    for (;;) {
      if (await canConnect(port)) return performance.now() - started;
      await sleep(2);
    }
  } finally {
    child.kill('SIGKILL');
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
    socket.once('close', () => socket.destroy());
    socket.once('connect', () => socket.destroy());
  });
}

async function measureDeploy(appFile: string, readyDelayMs: number, deploys: number): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) samples.push(await appReadyMs(appFile, readyDelayMs));
  const appMs = samples.sort((a, b) => a - b)[1]!;
  const daemon = await DaemonFixture.start(await fleetConfig(appFile, 2, { READY_DELAY_MS: String(readyDelayMs) }));
  try {
    const durations: number[] = [];
    for (let n = 1; n <= deploys; n++) {
      const result = await daemon.cli(['deploy', 'app0', '--set', `app0.run.env.N=${n}`]);
      if (result.code !== 0) throw new Error(`deploy ${n} failed: ${result.stdout}${result.stderr}`);
      // The rollout's own span: the CLI goes on to wait for the report's after window.
      const history = JSON.parse((await daemon.cli(['history', 'app0', '--json'])).stdout) as { rollouts: { startedAt: number; endedAt: number | null }[] };
      const last = history.rollouts.reduce((a, b) => (b.startedAt > a.startedAt ? b : a));
      durations.push(last.endedAt! - last.startedAt);
    }
    const median = durations.sort((a, b) => a - b)[Math.floor(durations.length / 2)]!;
    const batches = 2;
    const target = batches * (appMs * 1.1 + 100);
    console.log(`rolling deploy of a 2-instance app (maxSurge 1: ${batches} batches), readiness delay ${readyDelayMs} ms, ${deploys} deploys`);
    printTable([
      ['app ready after (spawn to listening)', 'delay × batches', 'rollout (median, start to promoted)', 'target: batches × (1.1 × ready + 100 ms)'],
      [`${appMs.toFixed(0)} ms`, `${(appMs * batches).toFixed(0)} ms`, `${median.toFixed(0)} ms`, `${target.toFixed(0)} ms`],
    ]);
  } finally {
    await daemon.stop();
  }
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
}
