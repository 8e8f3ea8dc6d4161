import { setTimeout as sleep } from 'node:timers/promises';
import type { CutoverClient } from '../api/client.js';
import type { RolloutRecord } from '../model/records.js';
import { isTerminalPhase } from '../model/rollout.js';

const POLL_MS = 200;

/**
 * Whether a promote has been applied: the rollout ended, waits for a person again (a gate, a
 * pause), moved past the step it was promoted to, or starts nothing more for it (what is left
 * is waiting on purpose: a timed pause, an analysis, hooks). `isStarting` says whether any of
 * the app's instances is still starting. Pure.
 */
export function isPromoteApplied(promoted: RolloutRecord, now: RolloutRecord, isStarting: boolean): boolean {
  if (isTerminalPhase(now.phase) || now.gate !== null || now.pausedAt !== null) return true;
  return now.stepIndex > promoted.stepIndex || !isStarting;
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
    const isStarting = status.apps.some((a) => a.name === promoted.app && a.instances.some((i) => i.state === 'starting'));
    if (isPromoteApplied(promoted, now, isStarting)) return now;
    if (now.step !== lastStep) say(now.step);
    lastStep = now.step;
    await sleep(POLL_MS);
  }
}
