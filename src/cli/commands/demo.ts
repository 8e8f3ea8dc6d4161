import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '../../runtime/local/free-port.js';
import { LoadClient, percentile } from '../../loadgen/load-client.js';
import { paint, table } from '../output.js';
import { CutoverClient } from '../../api/client.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCutover, waitFor as waitUntil } from '../scratch-daemon.js';
import { visible } from '../../util/terminal-text.js';

const EXAMPLE_DIR = fileURLToPath(new URL('../../../../examples/demo/', import.meta.url));

interface DemoStep {
  title: string;
  args: string[];
  expectedExit: number;
}

/**
 * The tour: start the daemon on a scratch data dir, keep steady traffic flowing, deploy v2 and
 * v3 by rolling, v4 by blue-green (preview, promote, switch), v5 by canary (20%, measured, then
 * promote), then a canary v6 that answers 20 % errors on purpose, caught by metric analysis
 * and rolled back by itself (its deploy report says why), and a v7 that never becomes ready
 * and is rolled back too; then v8 as a release (its own snapshot of the app's files, one line
 * edited so it answers differently), rolled back to v5's code; print what each revision served
 * and how many requests failed. Exits 0 only when none did (v6's deliberate 500s are the app's,
 * counted apart) and the release's answers changed and came back.
 */
export async function demo(options: { keep?: boolean }): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-demo-'));
  const port = await findFreePort();
  const configPath = path.join(dir, 'cutover.yaml');
  const metricsPort = await findFreePort();
  const localise = (name: string): string =>
    fs
      .readFileSync(path.join(EXAMPLE_DIR, name), 'utf8')
      .replace('listen: 127.0.0.1:8080', `listen: 127.0.0.1:${port}`)
      .replace('command: [node, server.js]', `command: [${JSON.stringify(process.execPath)}, server.js]\n      cwd: ${JSON.stringify(EXAMPLE_DIR)}`)
      .replace(/^apps:/m, `metrics: { listen: 127.0.0.1:${metricsPort} }\napps:`);
  fs.writeFileSync(configPath, localise('cutover.yaml'));
  const analysisConfigPath = path.join(dir, 'cutover-analysis.yaml');
  fs.writeFileSync(analysisConfigPath, localise('cutover-analysis.yaml'));
  const releaseSource = path.join(dir, 'release-source');
  const releaseConfigPath = path.join(dir, 'cutover-release.yaml');
  fs.writeFileSync(releaseConfigPath, asRelease(localise('cutover.yaml'), releaseSource));
  const common = ['-c', configPath, '--data-dir', path.join(dir, 'data')];
  const withAnalysis = ['-c', analysisConfigPath, '--data-dir', path.join(dir, 'data')];
  const withRelease = ['-c', releaseConfigPath, '--data-dir', path.join(dir, 'data')];
  const origin = `http://127.0.0.1:${port}`;
  heading(`cutover demo: app "web" (3 instances) behind the built-in proxy on http://127.0.0.1:${port}`);
  console.log(paint('dim', `scratch dir ${dir}`));

  let load: LoadClient | null = null;
  let isDaemonUp = false;
  const results: { step: string; exit: number; expected: number }[] = [];
  const failedChecks: string[] = [];
  try {
    await run('start the daemon with revision 1 (v1)', ['up', '--detach', ...common], 0, results);
    isDaemonUp = true;
    load = new LoadClient({ origin, clients: 8, postShare: 0.25, pauseMs: 5, maxDurationMs: 120_000, onTimeLimit: 'report' });
    load.start();
    heading('steady traffic: 8 keep-alive clients, GET and POST, from now until the end');

    const client = new CutoverClient({ socketPath: path.join(dir, 'data', 'cutover.sock') });
    const traffic = load;
    const progress = (): void => {
      const snapshot = traffic.snapshot();
      console.log(
        paint(
          'dim',
          `   traffic so far: ${snapshot.requests} requests, ${snapshot.failed} failed${snapshot.injectedErrors ? `, ${snapshot.injectedErrors} 500s v6 answered on purpose` : ''}`,
        ),
      );
    };
    const steps: DemoStep[] = [
      { title: 'rolling deploy v1 → v2', args: ['deploy', ...common, '--set', 'web.run.env.VERSION=2'], expectedExit: 0 },
      { title: 'rolling deploy v2 → v3', args: ['deploy', ...common, '--set', 'web.run.env.VERSION=3'], expectedExit: 0 },
    ];
    for (const step of steps) {
      await run(step.title, step.args, step.expectedExit, results);
      progress();
    }

    await run(
      'blue-green deploy v3 → v4: green starts beside blue and answers preview traffic only',
      ['deploy', '--detach', '--strategy', 'blue-green', ...common, '--set', 'web.run.env.VERSION=4'],
      0,
      results,
    );
    await waitForGate(client);
    await run('green waits at the gate; real traffic is all on blue', ['status', ...common], 0, results);
    await run('promote: all traffic to green in one atomic switch (blue stays warm for a quick rollback)', ['promote', 'web', ...common], 0, results);
    progress();

    await run(
      'canary deploy v4 → v5: 20% of traffic to the canary, then a manual gate',
      ['deploy', '--detach', '--strategy', 'canary', ...common, '--set', 'web.run.env.VERSION=5'],
      0,
      results,
    );
    await waitForGate(client);
    await showSplit(traffic, 5);
    await run('promote the canary: it grows to full size and takes all traffic', ['promote', 'web', ...common], 0, results);
    await waitFor(async () => (await client.status('web')).apps[0]?.rollout?.phase === 'promoted');
    progress();

    await run(
      'canary v5 → v6 judged by analysis: v6 answers 20% of its requests with 500; the success rate analysis fails and cutover rolls back by itself, then prints the report',
      ['deploy', ...withAnalysis, '--set', 'web.run.env.VERSION=6', '--set', 'web.run.env.ERROR_RATE=0.2'],
      1,
      results,
    );
    progress();

    await run(
      'a broken v7 that never becomes ready: cutover rolls it back by itself',
      ['deploy', ...common, '--set', 'web.run.env.VERSION=7', '--set', 'web.run.env.BROKEN=never-ready'],
      1,
      results,
    );
    progress();

    writeEditedRelease(releaseSource);
    await run(
      `a code change shipped as a release: the app copied to ${releaseSource}, one line of server.js edited; v8 runs its own snapshot of those files`,
      ['deploy', ...withRelease, '--set', 'web.run.env.VERSION=8'],
      0,
      results,
    );
    await expectAnswer(origin, `${EDITED_ANSWER_PREFIX}v8`, failedChecks);
    await run('rollback: v5 and its own files come back (the edited release stays on disk)', ['rollback', 'web', ...withRelease], 0, results);
    await expectAnswer(origin, 'hello from v5', failedChecks);
    progress();
    await run('status after the demo', ['status', ...common], 0, results);
  } finally {
    const report = load ? await load.stop() : null;
    if (isDaemonUp) await run('stop everything', ['down', ...common], 0, results);
    if (report) printSummary(report);
    const unexpected = results.filter((r) => r.exit !== r.expected);
    for (const r of unexpected) console.log(paint('red', `step "${r.step}" exited ${r.exit}, expected ${r.expected}`));
    for (const check of failedChecks) console.log(paint('red', check));
    const isSuccess = report !== null && report.failed === 0 && unexpected.length === 0 && failedChecks.length === 0;
    console.log(
      isSuccess
        ? paint(
            'green',
            '\nDemo passed: 0 failed requests across rolling, blue-green and canary deploys, the rollback decided by analysis, and the automatic rollback; a release shipped new code and its rollback brought the old code back.',
          )
        : paint('red', '\nDemo FAILED: see above.'),
    );
    if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
    process.exitCode = isSuccess ? 0 : 1;
  }
}

/** What the edited release answers instead of `hello from vN`. */
const EDITED_ANSWER_PREFIX = 'hello from the edited release, ';

/** The demo's config as a release: `release.from` is `source`, and the command runs in the release instead of the example dir. */
function asRelease(config: string, source: string): string {
  const cwdLine = `\n      cwd: ${JSON.stringify(EXAMPLE_DIR)}`;
  if (!config.includes(cwdLine) || !config.includes('\n    run:\n')) throw new Error('the demo config changed: update asRelease');
  return config.replace(cwdLine, '').replace('\n    run:\n', `\n    release: { from: ${JSON.stringify(source)} }\n    run:\n`);
}

/** The demo app copied to `source` (an ES module needs its package.json) with its answer edited: the one code change the release ships. */
function writeEditedRelease(source: string): void {
  const original = fs.readFileSync(path.join(EXAMPLE_DIR, 'server.js'), 'utf8');
  const answer = '`hello from v${version}\\n`';
  if (!original.includes(answer)) throw new Error('the demo app changed: update writeEditedRelease');
  fs.mkdirSync(source, { mode: 0o700 });
  fs.writeFileSync(path.join(source, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(source, 'server.js'), original.replace(answer, `\`${EDITED_ANSWER_PREFIX}v\${version}\\n\``));
}

/** Asks the app a few times through the proxy and prints what it answers; notes a failed check unless every answer is `expected`. */
async function expectAnswer(origin: string, expected: string, failedChecks: string[]): Promise<void> {
  const answers = new Set<string>();
  for (let i = 0; i < 6; i++) answers.add((await (await fetch(origin)).text()).trim());
  const isExpected = answers.size === 1 && answers.has(expected);
  console.log(paint(isExpected ? 'dim' : 'red', `   GET / answers: ${[...answers].map((answer) => JSON.stringify(visible(answer))).join(', ')}`));
  if (!isExpected) failedChecks.push(`GET / should answer ${JSON.stringify(expected)} only`);
}

async function run(title: string, args: string[], expectedExit: number, results: { step: string; exit: number; expected: number }[]): Promise<void> {
  heading(title);
  console.log(paint('dim', `$ cutover ${args.filter((a, i) => !isCommonArg(args, i)).join(' ')}`));
  const { code: exit } = await runCutover(args);
  results.push({ step: title, exit, expected: expectedExit });
  console.log(paint(exit === expectedExit ? 'dim' : 'red', `   exit code ${exit}${exit === expectedExit ? ' (as expected)' : ` (expected ${expectedExit})`}`));
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  if (!(await waitUntil(condition, 60_000))) throw new Error('the demo waited a minute for a rollout that did not move');
}

async function waitForGate(client: CutoverClient): Promise<void> {
  await waitFor(async () => (await client.status('web')).apps[0]?.rollout?.gate != null);
}

/** What the live traffic did over two seconds at the gate: the canary's measured share. */
async function showSplit(load: LoadClient, canaryRevision: number): Promise<void> {
  const before = load.snapshot().byRevision;
  await sleep(2_000);
  const after = load.snapshot().byRevision;
  const served = Object.entries(after)
    .map(([revision, count]) => [revision, count - (before[revision] ?? 0)] as const)
    .filter(([, count]) => count > 0);
  const total = served.reduce((sum, [, count]) => sum + count, 0);
  heading('the traffic split at the gate, measured over 2 s of live traffic');
  console.log(
    table([
      ['REVISION', 'REQUESTS', 'SHARE'],
      ...served.map(([revision, count]) => [
        `${revision}${Number(revision) === canaryRevision ? ' (canary)' : ''}`,
        String(count),
        `${((count / total) * 100).toFixed(1)}%`,
      ]),
    ]),
  );
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
  const rows = [
    ['REVISION', 'REQUESTS SERVED'],
    ...Object.entries(report.byRevision)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([rev, count]) => [rev, String(count)]),
  ];
  console.log(table(rows));
  console.log('');
  if (report.stoppedByTimeLimit) console.log(paint('yellow', 'the load stopped at its time limit before the demo ended: the last steps ran without load'));
  console.log(
    table([
      ['REQUESTS', 'FAILED', 'P50 MS', 'P99 MS'],
      [String(report.requests), String(report.failed), percentile(report.latenciesMs, 50).toFixed(2), percentile(report.latenciesMs, 99).toFixed(2)],
    ]),
  );
  if (report.injectedErrors)
    console.log(
      `\n${report.injectedErrors} requests were answered 500 by v6 on purpose (ERROR_RATE): the app's own errors, which the analysis caught; not failures of the deploy.`,
    );
  for (const failure of report.failures) console.log(paint('red', `  failed: ${failure.method} ${failure.status ?? ''} ${failure.error ?? ''}`));
}
