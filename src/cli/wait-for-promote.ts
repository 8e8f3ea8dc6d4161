import { setTimeout as sleep } from 'node:timers/promises';
import type { CutoverClient } from '../api/client.js';
import type { RolloutRecord } from '../model/records.js';
import { isTerminalPhase } from '../model/rollout.js';

const POLL_MS = 200;

/** Canary steps that end by themselves once their instances are ready: only moving past them applies them. */
const SCALING_STEP = /^(setWeight|setCanaryScale) /;

/**
 * Whether a promote has been applied: the rollout ended, waits for a person again (a gate, a
 * pause), moved past the step it was promoted to, or starts nothing more for it (what is left
 * is waiting on purpose: a timed pause, an analysis, hooks). `isStarting` says whether any of
 * the app's instances is still starting; `stepName` is the current step's name. A scaling step
 * (`setWeight 50`) counts only once passed: between its passes nothing may be starting yet (a
 * stable instance drains first, a start is on its way), and that is not the weight applied. Pure.
 */
export function isPromoteApplied(promoted: RolloutRecord, now: RolloutRecord, isStarting: boolean, stepName = ''): boolean {
  if (isTerminalPhase(now.phase) || now.gate !== null || now.pausedAt !== null) return true;
  if (now.stepIndex > promoted.stepIndex) return true;
  return !isStarting && !SCALING_STEP.test(stepName);
}

/**
 * `cutover promote` waits like this for a canary step as for a blue-green switch: until the
 * promote is applied (`isPromoteApplied`), saying each step it passes. The daemon's progress
 * deadline ends a rollout whose instances never get ready, and so this wait.
 */
export async function waitForPromote(client: CutoverClient, promoted: RolloutRecord, say: (step: string) => void): Promise<RolloutRecord> {
  let lastStep = promoted.step;
  for (;;) {
    const [now, status] = await Promise.all([client.rollout(promoted.id), client.status(promoted.app)]);
    const app = status.apps.find((a) => a.name === promoted.app);
    const isStarting = app?.instances.some((i) => i.state === 'starting') ?? false;
    if (isPromoteApplied(promoted, now, isStarting, app?.rollout?.steps[now.stepIndex] ?? '')) return now;
    if (now.step !== lastStep) say(now.step);
    lastStep = now.step;
    await sleep(POLL_MS);
  }
}
