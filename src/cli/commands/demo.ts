import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../runtime/local/free-port.js';
import { LoadClient, percentile } from '../../load/load-client.js';
import { paint, table } from '../output.js';

const BIN = fileURLToPath(new URL('../../../../bin/cutover.js', import.meta.url));
const EXAMPLE_DIR = fileURLToPath(new URL('../../../../examples/demo/', import.meta.url));

interface DemoStep {
  title: string;
  args: string[];
  expectedExit: number;
}

/**
 * The tour: start the daemon on a scratch data dir, keep steady traffic flowing, deploy
 * v2 and v3, then a v4 that never becomes ready and is rolled back by itself; print what
 * each revision served and how many requests failed. Exits 0 only when none did.
 */
export async function demo(options: { keep?: boolean }): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-demo-'));
  const port = await findFreePort();
  const configPath = path.join(dir, 'cutover.yaml');
  const template = fs.readFileSync(path.join(EXAMPLE_DIR, 'cutover.yaml'), 'utf8');
  fs.writeFileSync(
    configPath,
    template.replace('listen: 127.0.0.1:8080', `listen: 127.0.0.1:${port}`).replace('command: [node, server.js]', `command: [${JSON.stringify(process.execPath)}, server.js]\n      cwd: ${JSON.stringify(EXAMPLE_DIR)}`),
  );
  const common = ['-c', configPath, '--data-dir', path.join(dir, 'data')];
  heading(`cutover demo: app "web" (3 instances) behind the built-in proxy on http://127.0.0.1:${port}`);
  console.log(paint('dim', `scratch dir ${dir}`));

  let load: LoadClient | null = null;
  let isDaemonUp = false;
  const results: { step: string; exit: number; expected: number }[] = [];
  try {
    await run('start the daemon with revision 1 (v1)', ['up', '--detach', ...common], 0, results);
    isDaemonUp = true;
    load = new LoadClient({ origin: `http://127.0.0.1:${port}`, clients: 8, postShare: 0.25, pauseMs: 5, maxDurationMs: 120_000 });
    load.start();
    heading('steady traffic: 8 keep-alive clients, GET and POST, from now until the end');

    const steps: DemoStep[] = [
      { title: 'rolling deploy v1 → v2', args: ['deploy', ...common, '--set', 'web.run.env.VERSION=2'], expectedExit: 0 },
      { title: 'rolling deploy v2 → v3', args: ['deploy', ...common, '--set', 'web.run.env.VERSION=3'], expectedExit: 0 },
      { title: 'a broken v4 that never becomes ready: cutover rolls it back by itself', args: ['deploy', ...common, '--set', 'web.run.env.VERSION=4', '--set', 'web.run.env.BROKEN=never-ready'], expectedExit: 1 },
    ];
    for (const step of steps) {
      await run(step.title, step.args, step.expectedExit, results);
      const snapshot = load.snapshot();
      console.log(paint('dim', `   traffic so far: ${snapshot.requests} requests, ${snapshot.failed} failed`));
    }
    await run('status after the demo', ['status', ...common], 0, results);
  } finally {
    const report = load ? await load.stop() : null;
    if (isDaemonUp) await run('stop everything', ['down', ...common], 0, results);
    if (report) printSummary(report);
    const unexpected = results.filter((r) => r.exit !== r.expected);
    for (const r of unexpected) console.log(paint('red', `step "${r.step}" exited ${r.exit}, expected ${r.expected}`));
    const isSuccess = report !== null && report.failed === 0 && unexpected.length === 0;
    console.log(isSuccess ? paint('green', '\nDemo passed: 0 failed requests across every deploy and the rollback.') : paint('red', '\nDemo FAILED: see above.'));
    if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
    process.exitCode = isSuccess ? 0 : 1;
  }
}

async function run(title: string, args: string[], expectedExit: number, results: { step: string; exit: number; expected: number }[]): Promise<void> {
  heading(title);
  console.log(paint('dim', `$ cutover ${args.filter((a, i) => !isCommonArg(args, i)).join(' ')}`));
  const exit = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => resolve(code ?? 1));
  });
  results.push({ step: title, exit, expected: expectedExit });
  console.log(paint(exit === expectedExit ? 'dim' : 'red', `   exit code ${exit}${exit === expectedExit ? ' (as expected)' : ` (expected ${expectedExit})`}`));
}

/** Hides the scratch-dir flags from the printed command lines, to keep them readable. */
function isCommonArg(args: string[], index: number): boolean {
  const flag = args[index];
  const previous = args[index - 1];
  return flag === '-c' || flag === '--data-dir' || previous === '-c' || previous === '--data-dir';
}

function heading(text: string): void {
  console.log(`\n${paint('bold', `▸ ${text}`)}`);
}

function printSummary(report: Awaited<ReturnType<LoadClient['stop']>>): void {
  heading('summary');
  const rows = [['REVISION', 'REQUESTS SERVED'], ...Object.entries(report.byRevision).sort(([a], [b]) => Number(a) - Number(b)).map(([rev, count]) => [rev, String(count)])];
  console.log(table(rows));
  console.log('');
  console.log(
    table([
      ['REQUESTS', 'FAILED', 'P50 MS', 'P99 MS'],
      [String(report.requests), String(report.failed), percentile(report.latenciesMs, 50).toFixed(2), percentile(report.latenciesMs, 99).toFixed(2)],
    ]),
  );
  for (const failure of report.failures) console.log(paint('red', `  failed: ${failure.method} ${failure.status ?? ''} ${failure.error ?? ''}`));
}
