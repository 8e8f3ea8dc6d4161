import { formatCount, formatValue } from '../analysis/judge.js';
import type { DeployReport } from '../protocol/deploy-report.js';

/** The report as lines for a terminal. */
export function formatDeployReport(report: DeployReport): string {
  const lines: string[] = [];
  lines.push(
    `deploy report: ${report.app} rollout ${report.rolloutId} (${report.strategy}, revision ${report.fromRevision ?? '-'} → ${report.toRevision}): ${report.outcome} after ${(report.durationMs / 1000).toFixed(1)}s`,
  );
  if (report.reason && report.outcome !== 'promoted') lines.push(`  why: ${report.reason}`);
  lines.push(
    `  ${'phase'.padEnd(7)} ${'revision'.padEnd(8)} ${'requests'.padStart(9)} ${'app 5xx'.padStart(8)} ${'failed'.padStart(7)} ${'p50'.padStart(9)} ${'p99'.padStart(9)}`,
  );
  for (const phase of report.phases) {
    for (const r of phase.revisions) {
      const ms = (v: number | null): string => (v === null ? '-' : `${formatValue(v)}ms`);
      lines.push(
        `  ${phase.phase.padEnd(7)} ${String(r.revision).padEnd(8)} ${formatCount(r.requests).padStart(9)} ${formatCount(r.app5xx).padStart(8)} ${formatCount(r.failed).padStart(7)} ${ms(r.p50Ms).padStart(9)} ${ms(r.p99Ms).padStart(9)}`,
      );
    }
    if (phase.unrouted > 0) lines.push(`  ${phase.phase.padEnd(7)} (none)   ${formatCount(phase.unrouted).padStart(9)} requests found no instance (503)`);
  }
  lines.push(...formatSteps(report));
  for (const a of report.analysis)
    lines.push(
      `  analysis ${a.template} (${a.point}): ${a.result} after ${a.measurements} measurement${a.measurements === 1 ? '' : 's'}${a.reason ? `: ${a.reason}` : ''}`,
    );
  if (report.restart) {
    const { oldInstances, newInstances } = report.restart;
    lines.push(`  restart: ${oldInstances.length} old instance${oldInstances.length === 1 ? '' : 's'} (${oldInstances.join(', ') || '-'})`);
    lines.push(`           ${newInstances.length} new instance${newInstances.length === 1 ? '' : 's'} (${newInstances.join(', ') || '-'})`);
  }
  if (report.newRevisionApp5xx > 0) lines.push(`  the new revision answered ${formatCount(report.newRevisionApp5xx)} 5xx of its own while it took traffic`);
  lines.push(
    `  failed requests caused by the deploy: ${formatCount(report.failedByDeploy)} (on the stable side: ${formatCount(report.failedOnStable)})${report.isComplete ? '' : ' [partial: counting began after the rollout started]'}`,
  );
  return lines.join('\n');
}

/** A row per step of the rollout (a canary step, a blue-green switch, a rolling batch): its split and what its plans routed. */
function formatSteps(report: DeployReport): string[] {
  if (report.countedBy !== 'plan' || report.steps === undefined || report.steps.length === 0) {
    return report.countedBy === 'second' ? ['  (counted by second: a rollout shorter than a few seconds blurs into its neighbours)'] : [];
  }
  const ms = (v: number | null): string => (v === null ? '-' : `${formatValue(v)}ms`);
  const lines = [`  ${'step'.padEnd(5)} ${'at'.padStart(7)} ${'weights'.padEnd(22)} ${'requests'.padStart(9)} ${'errors'.padStart(7)} ${'p99'.padStart(9)}`];
  report.steps.forEach((step, i) => {
    const weights = step.weights.map((w) => `rev ${w.revision} ${formatValue(w.weightPercent)}%`).join(', ') || 'none';
    lines.push(
      `  ${String(i + 1).padEnd(5)} ${`+${(step.startMs / 1000).toFixed(1)}s`.padStart(7)} ${weights.padEnd(22)} ${formatCount(step.requests).padStart(9)} ${formatCount(step.errors).padStart(7)} ${ms(step.p99Ms).padStart(9)}`,
    );
  });
  return lines;
}
