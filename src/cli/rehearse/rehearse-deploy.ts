import { setTimeout as sleep } from 'node:timers/promises';
import type { CutoverClient, RolloutReport } from '../../api/client.js';
import { CutoverError, DaemonUnreachableError } from '../../errors.js';
import type { LoadClient } from '../../loadgen/load-client.js';
import { isTerminalPhase, type StrategyName } from '../../model/rollout.js';
import type { AppSpec } from '../../model/app-spec.js';
import { formatEvent } from '../output.js';
import { waitForReport } from '../wait-for-report.js';
import { describeFailedRequests, loadFiguresSince, markLoad } from './load-window.js';
import type { DeployExpectation, LoadFigures, RehearsalDeploy } from './rehearsal-result.js';

const POLL_MS = 150;
/** Set in each rehearsal revision's `run.env`, so that every deploy is a new revision. */
export const REHEARSAL_ENV = 'CUTOVER_REHEARSAL';
/** The broken revision runs this instead of the app: it never listens, so its health check never passes. */
const NEVER_READY_SCRIPT = 'setInterval(() => {}, 60000); // cutover rehearse: a revision that never becomes healthy';

/** One deploy of a rehearsal: the spec the rehearsal daemon runs now, and which deploy this is. */
export interface DeployStep {
  spec: AppSpec;
  /** 1…count; the broken revision is count + 1. */
  number: number;
  count: number;
  isBroken: boolean;
  /** `--strategy`; undefined: the app's own. */
  strategy: StrategyName | undefined;
}

/** The spec of a step's revision: the app as it is, with a new CUTOVER_REHEARSAL; the broken one runs a process that never listens. */
export function revisionOf(step: DeployStep): AppSpec {
  const { spec } = step;
  const env = { ...spec.run.env, [REHEARSAL_ENV]: step.isBroken ? `${step.number}-broken` : String(step.number) };
  const command = step.isBroken ? [process.execPath, '-e', NEVER_READY_SCRIPT] : spec.run.command;
  return { ...spec, run: { ...spec.run, command, shell: step.isBroken ? false : spec.run.shell, env } };
}

/** The test case's name: stable from run to run, so CI can follow it. */
export function deployName(step: Pick<DeployStep, 'number' | 'count' | 'isBroken'>): string {
  return step.isBroken ? 'a broken revision (its health check never passes) is rolled back' : `deploy ${step.number} of ${step.count} is promoted`;
}

/**
 * Deploys one revision through the rehearsal daemon and follows it to its end, promoting every
 * gate it waits at; then waits for its deploy report and measures what the app's clients saw
 * from the deploy request until then.
 */
export async function rehearseDeploy(client: CutoverClient, load: LoadClient, step: DeployStep, log: (line: string) => void): Promise<RehearsalDeploy> {
  const app = step.spec.name;
  const expected: DeployExpectation = step.isBroken ? 'rolled-back' : 'promoted';
  const mark = markLoad(load);
  const started = performance.now();
  const what = step.isBroken
    ? 'a broken revision, a process that never listens: its health check never passes'
    : `deploy ${step.number} of ${step.count}, ${REHEARSAL_ENV}=${step.number}`;
  log(`${app}: ${what}; by ${step.strategy ?? step.spec.strategy.use ?? 'rolling'}, expected: ${expected}`);
  const base = { app, name: deployName(step), number: step.number, isBroken: step.isBroken, expected };
  const deployed = await startDeploy(client, step);
  if ('refusal' in deployed) {
    const figures = loadFiguresSince(load, mark);
    const durationMs = Math.round(performance.now() - started);
    return {
      ...base,
      strategy: null,
      rolloutId: null,
      revision: null,
      outcome: 'not-started',
      reason: deployed.refusal,
      durationMs,
      gatesPromoted: 0,
      load: figures,
      report: null,
      ...verdict([deployed.refusal], figures),
    };
  }
  const { rolloutId, revision } = deployed;
  const { rollout, gatesPromoted } = await followRollout(client, app, rolloutId, log);
  const durationMs = performance.now() - started;
  const report = await waitForReport(client, rolloutId);
  const figures = loadFiguresSince(load, mark);
  const problems: string[] = [];
  if (rollout.phase !== expected) problems.push(`it ended ${rollout.phase}${rollout.reason ? ` (${rollout.reason})` : ''}, expected ${expected}`);
  if (report === null) problems.push('no deploy report was written');
  else if (report.failedByDeploy > 0)
    problems.push(`its deploy report counts ${report.failedByDeploy} failed request${report.failedByDeploy === 1 ? '' : 's'} caused by the deploy`);
  return {
    ...base,
    strategy: rollout.strategy,
    rolloutId,
    revision,
    outcome: rollout.phase,
    reason: rollout.reason,
    durationMs: Math.round(durationMs),
    gatesPromoted,
    load: figures,
    report,
    ...verdict(problems, figures),
  };
}

/** Sends the step's revision to the daemon; a refusal is the rehearsal's finding, not an error. */
async function startDeploy(client: CutoverClient, step: DeployStep): Promise<{ rolloutId: number; revision: number } | { refusal: string }> {
  try {
    const { results } = await client.deploy([revisionOf(step)], step.strategy ? { strategy: step.strategy } : {});
    const result = results[0];
    return result?.rolloutId ? { rolloutId: result.rolloutId, revision: result.revision } : { refusal: 'the daemon found nothing new to deploy' };
  } catch (error) {
    if (!(error instanceof CutoverError) || error instanceof DaemonUnreachableError) throw error;
    return { refusal: `the daemon refused the deploy (${error.code}): ${error.message}` };
  }
}

/** A deploy passes when it ended as expected, with its report, and no client saw a request fail meanwhile. */
function verdict(problems: string[], figures: LoadFigures): { isPassed: boolean; problems: string[] } {
  const all = [...problems];
  if (figures.failed > 0) {
    const named = figures.failures.slice(0, 3).map(describeFailedRequests).join('; ');
    all.push(`${figures.failed} request${figures.failed === 1 ? '' : 's'} failed while it ran: ${named}${figures.failures.length > 3 ? '; …' : ''}`);
  }
  return { isPassed: all.length === 0, problems: all };
}

/**
 * Prints the rollout's events as they are stored and promotes it past every gate (a blue-green
 * preview, a canary's manual pause) until it ends and its last hooks ran. Timed pauses and
 * analysis run their course.
 */
async function followRollout(
  client: CutoverClient,
  app: string,
  rolloutId: number,
  log: (line: string) => void,
): Promise<{ rollout: RolloutReport; gatesPromoted: number }> {
  let afterId = 0;
  let gatesPromoted = 0;
  let refusedGate: string | null = null;
  for (;;) {
    const rollout = await client.rollout(rolloutId);
    const { events } = await client.events({ rolloutId, afterId });
    for (const event of events) {
      log(formatEvent(event));
      afterId = event.id;
    }
    if (isTerminalPhase(rollout.phase) && !rollout.hasHooksDue) return { rollout, gatesPromoted };
    // A gate a person paused at stays theirs; the rehearsal runs alone, so this is a safeguard.
    if (rollout.gate !== null && rollout.pausedAt === null && !isTerminalPhase(rollout.phase)) {
      try {
        await client.promote(app);
        gatesPromoted += 1;
        log(`${app}: promoted past the gate "${rollout.gate}"`);
      } catch (error) {
        if (!(error instanceof CutoverError) || error instanceof DaemonUnreachableError) throw error;
        // The rollout moved on meanwhile (NOTHING_TO_PROMOTE): say so once, and look again.
        if (refusedGate !== rollout.gate) log(`${app}: promote refused (${error.code}): ${error.message}`);
        refusedGate = rollout.gate;
      }
    }
    await sleep(POLL_MS);
  }
}
