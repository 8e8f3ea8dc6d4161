import { formatDeployReport } from '../format-deploy-report.js';
import { table } from '../output.js';
import { describeFailedRequests } from './load-window.js';
import type { RehearsalDeploy, RehearsalResult } from './rehearsal-result.js';

/** The failed requests named, at most this many groups per deploy. */
const FAILED_GROUPS_SHOWN = 10;

/** One deploy in words: its verdict, what went wrong, the failed requests, and its deploy report. */
export function formatRehearsalDeploy(deploy: RehearsalDeploy): string {
  const lines = [`${deploy.app}: ${deploy.name}: ${deploy.isPassed ? 'passed' : 'FAILED'} (${deploy.outcome}, expected ${deploy.expected})`];
  for (const problem of deploy.problems) lines.push(`  - ${problem}`);
  const { failures } = deploy.load;
  if (failures.length > 0) {
    lines.push('  failed requests, as the clients saw them:');
    for (const group of failures.slice(0, FAILED_GROUPS_SHOWN)) lines.push(`    ${describeFailedRequests(group)}`);
    if (failures.length > FAILED_GROUPS_SHOWN) lines.push(`    … and ${failures.length - FAILED_GROUPS_SHOWN} other kinds`);
  }
  if (deploy.report) lines.push(formatDeployReport(deploy.report));
  else if (deploy.reason && deploy.outcome === 'not-started') lines.push(`  ${deploy.reason}`);
  return lines.join('\n');
}

/** The summary at the end: every deploy in a row, the load per app, and the verdict. */
export function formatRehearsalSummary(result: RehearsalResult): string {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
  const ms = (value: number | null): string => (value === null ? '-' : value.toFixed(1));
  const deploys = table([
    ['APP', 'DEPLOY', 'STRATEGY', 'REVISION', 'OUTCOME', 'EXPECTED', 'TIME', 'REQUESTS', 'FAILED', 'RESULT'],
    ...result.deploys.map((d) => [
      d.app,
      d.isBroken ? 'broken' : `${d.number}/${result.deploysPerApp}`,
      d.strategy ?? '-',
      d.revision === null ? '-' : String(d.revision),
      d.outcome,
      d.expected,
      seconds(d.durationMs),
      String(d.load.requests),
      String(d.load.failed),
      d.isPassed ? 'passed' : 'FAILED',
    ]),
  ]);
  const load = table([
    ['APP', 'REQUESTS', 'FAILED', 'P50 MS', 'P99 MS', 'ORIGIN'],
    ...result.apps.map((a) => [a.name, String(a.load.requests), String(a.load.failed), ms(a.load.p50Ms), ms(a.load.p99Ms), a.origin]),
  ]);
  const failedDeploys = result.deploys.filter((d) => !d.isPassed);
  const requests = result.apps.reduce((sum, a) => sum + a.load.requests, 0);
  const failed = result.apps.reduce((sum, a) => sum + a.load.failed, 0);
  const lines = ['rehearsal summary', deploys, '', load, ''];
  for (const problem of result.problems) lines.push(`- ${problem}`);
  for (const deploy of failedDeploys) for (const problem of deploy.problems) lines.push(`- ${deploy.app}, ${deploy.name}: ${problem}`);
  const counts = `${result.deploys.length} deploys, ${requests} requests, ${failed} failed, in ${seconds(result.durationMs)}`;
  const reasons = [
    ...(failedDeploys.length ? [`${failedDeploys.length} of ${result.deploys.length} deploys did not pass`] : []),
    ...(result.problems.length ? [`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} outside the deploys`] : []),
  ];
  lines.push(result.isPassed ? `Rehearsal passed: ${counts}; every deploy ended as expected.` : `Rehearsal FAILED: ${counts}; ${reasons.join(', ')}.`);
  return lines.join('\n');
}
