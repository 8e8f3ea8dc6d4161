import type { AppStatus } from '../protocol/status.js';
import type { RevisionRate } from '../protocol/live-metrics.js';
import { isTerminalPhase } from '../model/rollout.js';

/** What the live view shows of one app: its status and the last metrics tick. */
export interface LiveViewState {
  app: AppStatus;
  /** Per-revision rates, newest revision first; empty before the first tick. */
  rates: readonly RevisionRate[];
}

export interface LiveViewOptions {
  /** Terminal columns; bars shrink to fit, never under 10 cells. */
  width: number;
  isColored: boolean;
}

const ANSI: Record<string, string> = { green: '32', yellow: '33', red: '31', cyan: '36', magenta: '35', dim: '2', bold: '1' };
/** Traffic bar colours per revision, in the order the split lists them. */
const SPLIT_COLORS = ['cyan', 'magenta', 'yellow', 'green'] as const;
const INSTANCE_COLORS: Record<string, string> = { ready: 'green', starting: 'cyan', draining: 'yellow', failed: 'red', stopped: 'dim' };
/** Instances listed one per line in the live view; the rest are counted in one more line. */
const MAX_INSTANCE_LINES = 12;
const PHASE_COLORS: Record<string, string> = {
  promoted: 'green',
  progressing: 'cyan',
  paused: 'yellow',
  aborted: 'yellow',
  'rolled-back': 'yellow',
  failed: 'red',
};

/**
 * The live view of apps, as lines: per app, a header, the step progress bar, the traffic split
 * bar, requests per second, errors and p99 per revision, its instances, and the gate waited at. Pure: the
 * same state gives the same lines, so it is tested without a terminal.
 *
 * @example
 * renderLiveView([{ app, rates }], { width: process.stdout.columns, isColored: true }).join('\n');
 */
export function renderLiveView(states: readonly LiveViewState[], options: LiveViewOptions): string[] {
  const paint = (color: string, text: string): string => (options.isColored ? `\u001b[${ANSI[color]}m${text}\u001b[0m` : text);
  const barWidth = Math.max(10, Math.min(40, options.width - 30));
  const lines: string[] = [];
  for (const { app, rates } of states) {
    const rollout = app.rollout;
    if (rollout === null) {
      lines.push(`${paint('bold', app.name)}  stable revision ${app.revision ?? '-'}, no rollout yet`);
    } else {
      const phase = rollout.isPausedByUser && !isTerminalPhase(rollout.phase) ? 'paused by a person' : rollout.phase;
      lines.push(
        `${paint('bold', app.name)}  rollout ${rollout.id} (${rollout.strategy}) ${paint(PHASE_COLORS[rollout.phase] ?? 'dim', phase)}  revision ${rollout.fromRevision ?? '-'} → ${rollout.toRevision}`,
      );
      if (rollout.steps.length > 0) {
        const done = isTerminalPhase(rollout.phase) && rollout.phase === 'promoted' ? rollout.steps.length : Math.min(rollout.stepIndex, rollout.steps.length);
        const current = rollout.steps[rollout.stepIndex];
        const filled = Math.round((done / rollout.steps.length) * barWidth);
        const label =
          current !== undefined && !isTerminalPhase(rollout.phase)
            ? `step ${rollout.stepIndex + 1}/${rollout.steps.length}: ${current}`
            : `${done}/${rollout.steps.length} steps`;
        lines.push(`  steps   [${paint('green', '█'.repeat(filled))}${'░'.repeat(barWidth - filled)}] ${label}`);
      } else {
        lines.push(`  step    ${rollout.step}`);
      }
    }
    lines.push(`  traffic ${trafficBar(app, barWidth, paint)}`);
    const revisions = new Set([...app.traffic.map((t) => t.revision), ...rates.map((r) => r.revision)]);
    for (const revision of [...revisions].sort((a, b) => b - a)) {
      const rate = rates.find((r) => r.revision === revision);
      const weight = app.traffic.find((t) => t.revision === revision)?.weight ?? 0;
      const errors =
        rate && rate.errorsPerSecond > 0 ? paint('red', `${formatRate(rate.errorsPerSecond)} err/s`) : `${formatRate(rate?.errorsPerSecond ?? 0)} err/s`;
      lines.push(
        `    revision ${String(revision).padEnd(4)} ${`${weight}%`.padStart(4)}  ${`${formatRate(rate?.requestsPerSecond ?? 0)} rps`.padStart(10)}  ${errors}  p99 ${rate?.p99Ms == null ? '-' : `${formatRate(rate.p99Ms)}ms`}`,
      );
    }
    lines.push(...instanceLines(app, paint));
    if (rollout?.gate) lines.push(`  ${paint('yellow', 'gate')}    ${rollout.gate}`);
    else if (rollout?.isPausedByUser && !isTerminalPhase(rollout.phase)) lines.push(`  ${paint('yellow', 'paused')}  cutover resume ${app.name}`);
    if (rollout?.reason && isTerminalPhase(rollout.phase)) lines.push(`  reason  ${rollout.reason}`);
  }
  return lines;
}

/**
 * One plain line per app for output that is not a terminal: phase, step, traffic, instances and gate,
 * without the rates (a line is printed when this text changes, not every second).
 */
export function plainLine(app: AppStatus): string {
  const traffic = app.traffic.map((t) => `r${t.revision} ${t.weight}%`).join(' ') || 'none';
  const rollout = app.rollout;
  const instances = app.instances.length ? `; instances ${instanceCounts(app)}` : '';
  if (rollout === null) return `${app.name} stable revision ${app.revision ?? '-'}; traffic ${traffic}${instances}`;
  const step =
    rollout.steps.length > 0 && !isTerminalPhase(rollout.phase)
      ? `step ${Math.min(rollout.stepIndex + 1, rollout.steps.length)}/${rollout.steps.length} ${rollout.steps[rollout.stepIndex] ?? ''}`.trimEnd()
      : rollout.step;
  const parts = [
    `${app.name} rollout ${rollout.id} ${rollout.phase}${rollout.isPausedByUser && !isTerminalPhase(rollout.phase) ? ' (paused by a person)' : ''}`,
    `revision ${rollout.fromRevision ?? '-'} → ${rollout.toRevision}`,
    step,
    `traffic ${traffic}`,
  ];
  if (instances) parts.push(instances.slice(2));
  if (rollout.gate) parts.push(`gate: ${rollout.gate}`);
  if (rollout.reason && isTerminalPhase(rollout.phase)) parts.push(`reason: ${rollout.reason}`);
  return parts.join('; ');
}

/** The app's instances, newest revision first: id, revision, state, pid, and a starting one's last health check or a failed one's reason. */
function instanceLines(app: AppStatus, paint: (color: string, text: string) => string): string[] {
  const sorted = [...app.instances].sort((a, b) => b.revision - a.revision);
  const lines = sorted.slice(0, MAX_INSTANCE_LINES).map((i) => {
    const state = paint(INSTANCE_COLORS[i.state] ?? 'dim', i.state.padEnd(8));
    const detail = i.state === 'starting' && i.lastCheck ? `  last check: ${i.lastCheck}` : i.reason ? `  ${i.reason}` : '';
    return `  ${i.id.padEnd(16)} r${String(i.revision).padEnd(4)} ${state} ${i.pid === null ? '' : `pid ${i.pid}`}${detail}`.trimEnd();
  });
  if (sorted.length > MAX_INSTANCE_LINES) lines.push(`  … and ${sorted.length - MAX_INSTANCE_LINES} more (cutover status ${app.name})`);
  return lines;
}

/** Instances per revision and state, as `r2 1 starting, r1 2 ready`: the plain line's short form. */
function instanceCounts(app: AppStatus): string {
  const counts = new Map<string, number>();
  for (const i of [...app.instances].sort((a, b) => b.revision - a.revision))
    counts.set(`r${i.revision} ${i.state}`, (counts.get(`r${i.revision} ${i.state}`) ?? 0) + 1);
  return [...counts].map(([key, n]) => key.replace(' ', ` ${n} `)).join(', ');
}

function trafficBar(app: AppStatus, width: number, paint: (color: string, text: string) => string): string {
  const total = app.traffic.reduce((sum, t) => sum + t.weight, 0);
  if (total === 0) return `[${' '.repeat(width)}] no traffic`;
  let used = 0;
  const segments = app.traffic.map((t, i) => {
    // The last segment takes the rounding rest, so the bar is always full.
    const cells = i === app.traffic.length - 1 ? width - used : Math.round((t.weight / total) * width);
    used += cells;
    return paint(SPLIT_COLORS[i % SPLIT_COLORS.length]!, '█'.repeat(Math.max(0, cells)));
  });
  return `[${segments.join('')}] ${app.traffic.map((t) => `r${t.revision} ${t.weight}%`).join(' | ')}`;
}

function formatRate(value: number): string {
  return value >= 100 ? String(Math.round(value)) : value.toFixed(value >= 10 ? 1 : 2);
}
