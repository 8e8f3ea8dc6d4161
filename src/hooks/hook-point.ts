import type { HookPoint, HookSpec } from '../model/app-spec.js';
import { isTerminalPhase } from '../model/rollout.js';
import type { HookProgress } from '../strategies/strategy-plan.js';
import type { HookRunRecord, RolloutRecord } from '../model/records.js';

/**
 * Where one hook point of a rollout stands, from its persisted runs: passed, failed, or which
 * hook is next (with its row when one exists: running, interrupted or cancelled). Pure.
 */
export type PointState = { kind: 'passed' } | { kind: 'failed'; run: HookRunRecord } | { kind: 'next'; index: number; run: HookRunRecord | null };

/** A hook runs once per key: the point, with the step for postTraffic (one run per traffic change). */
export function pointKeyOf(point: HookPoint, stepIndex: number): string {
  return point === 'postTraffic' ? `postTraffic@${stepIndex}` : point;
}

/** The hooks a rollout runs at a point: none when it has no hooks or the point was skipped. */
export function hooksAt(rollout: RolloutRecord, point: HookPoint): HookSpec[] {
  if (rollout.skippedHooks.includes(point)) return [];
  return rollout.hooks?.[point] ?? [];
}

/**
 * @param keepsGoing onSuccess and onFailure run every hook whatever the others did; an
 *   interrupted one is not run again (it is over) and a failure is only logged.
 */
export function pointState(hooks: readonly HookSpec[], runs: readonly HookRunRecord[], pointKey: string, keepsGoing = false): PointState {
  for (let index = 0; index < hooks.length; index++) {
    const run = runs.find((r) => r.pointKey === pointKey && r.index === index) ?? null;
    if (run?.state === 'succeeded' || run?.state === 'skipped') continue;
    if (keepsGoing && (run?.state === 'failed' || run?.state === 'interrupted')) continue;
    if (run?.state === 'failed') return { kind: 'failed', run };
    return { kind: 'next', index, run };
  }
  return { kind: 'passed' };
}

/** What the planners need to know of a forward rollout's hooks. */
export function hookProgress(rollout: RolloutRecord, runs: readonly HookRunRecord[]): HookProgress {
  const isPassed = (point: HookPoint): boolean => pointState(hooksAt(rollout, point), runs, pointKeyOf(point, rollout.stepIndex)).kind === 'passed';
  return { isPreDeployPassed: isPassed('preDeploy'), isTrafficAllowed: isPassed('preTraffic'), isStepChecked: isPassed('postTraffic') };
}

/** The first failed preDeploy, preTraffic or postTraffic hook of a rollout, if any. */
export function failedHook(runs: readonly HookRunRecord[]): HookRunRecord | null {
  return runs.find((r) => r.state === 'failed' && (r.point === 'preDeploy' || r.point === 'preTraffic' || r.point === 'postTraffic')) ?? null;
}

/** The point that runs after a rollout ended: onSuccess once promoted, onFailure otherwise. */
export function finalPointOf(rollout: RolloutRecord): 'onSuccess' | 'onFailure' | null {
  if (!isTerminalPhase(rollout.phase)) return null;
  return rollout.phase === 'promoted' ? 'onSuccess' : 'onFailure';
}

/** True while a rollout still has hooks to run or running: `cutover deploy` waits for them. */
export function hasHooksDue(rollout: RolloutRecord, runs: readonly HookRunRecord[]): boolean {
  if (runs.some((r) => r.state === 'running')) return true;
  const point = finalPointOf(rollout);
  return point !== null && pointState(hooksAt(rollout, point), runs, point, true).kind === 'next';
}
