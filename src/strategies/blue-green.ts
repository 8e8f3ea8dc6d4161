import type { BlueGreenSpec, StrategySpec } from '../model/app-spec.js';
import type { StrategyName } from '../model/rollout.js';
import { NO_ANALYSIS_POINTS, type Strategy } from './strategy.js';
import { HOOKS_PASSED, scaleRevision, type HookProgress, type ObservedInstance, type StrategyPlan, type TrafficIntent } from './strategy-plan.js';

/** Blue-green steps: green grows to its preview size and waits at the gate, then to full size and takes all traffic. */
export const BLUE_GREEN_PREVIEW_STEP = 0;
export const BLUE_GREEN_SWITCH_STEP = 1;

export interface BlueGreenInput {
  app: string;
  replicas: number;
  blueGreen: BlueGreenSpec;
  /** The revision serving now. */
  blue: number;
  /** The revision being rolled out. */
  green: number;
  /** Live instances (starting, ready); draining ones are on their way out and left out. */
  instances: readonly ObservedInstance[];
  stepIndex: number;
  /** Paused by a person (`cutover pause`): nothing advances. */
  isPaused: boolean;
  nowMs: number;
  /** Hook state; default: none pending. */
  hooks?: HookProgress;
}

/**
 * Green starts beside blue at `previewReplicas`; once ready it answers preview traffic only
 * (the preview header, or its own listener) while everything else stays on blue. Past the gate
 * (`cutover promote`, or `autoPromote` after green has been ready that long) green grows to
 * `replicas`, and only when all of it is ready does all traffic move in one plan change.
 * Blue is not stopped here: it stays warm for `scaleDownDelay`, the controller's business.
 * preTraffic hooks run once green is ready for preview (before the gate or a switch, which waits
 * for them); postTraffic hooks run after the switch, and the rollout completes once they pass.
 * A pure function: the controller observes, calls it, and applies the result.
 */
export function planBlueGreen(input: BlueGreenInput): StrategyPlan {
  const { app, replicas, blueGreen, blue, green, instances, isPaused, nowMs } = input;
  const hooks = input.hooks ?? HOOKS_PASSED;
  const previewCount = Math.min(replicas, blueGreen.previewReplicas ?? replicas);
  let stepIndex = Math.min(input.stepIndex, BLUE_GREEN_SWITCH_STEP);
  const greenTarget = stepIndex === BLUE_GREEN_PREVIEW_STEP ? previewCount : replicas;

  const blueScale = scaleRevision(instances, blue, replicas);
  const greenScale = scaleRevision(instances, green, greenTarget);
  const others = instances.filter((i) => i.revision !== blue && i.revision !== green).map((i) => i.id);
  const stopIds = [...blueScale.stopIds, ...greenScale.stopIds, ...others];
  const starts = [
    { revision: blue, count: blueScale.start },
    { revision: green, count: greenScale.start },
  ].filter((s) => s.count > 0);
  const greenReady = greenScale.ready.length;

  const previewTraffic: TrafficIntent = {
    weights: [
      { revision: green, weight: 0 },
      { revision: blue, weight: 100 },
    ],
    routes: blueGreen.preview.header ? [{ revision: green, match: { header: blueGreen.preview.header } }] : [],
    previews: blueGreen.preview.listen ? [{ listen: blueGreen.preview.listen, revision: green }] : [],
    sticky: null,
    mirror: null,
  };
  const base = { starts, stopIds, traffic: previewTraffic, isComplete: false, gate: null, isWaiting: false, hookPoint: null };
  const awaitingPreTraffic = {
    ...base,
    stepIndex,
    step: `green (revision ${green}) ready for preview; waiting for preTraffic hooks`,
    isWaiting: true,
    hookPoint: 'preTraffic' as const,
  };

  if (stepIndex === BLUE_GREEN_PREVIEW_STEP) {
    if (greenReady < previewCount)
      return { ...base, stepIndex, step: `green (revision ${green}) ${greenReady}/${previewCount} ready; blue (revision ${blue}) serves` };
    if (!hooks.isTrafficAllowed) return awaitingPreTraffic;
    if (blueGreen.autoPromoteMs === null) {
      return {
        ...base,
        stepIndex,
        step: 'green ready for preview; waiting for cutover promote',
        gate: `green (revision ${green}) answers preview traffic; run cutover promote ${app} to switch`,
        isWaiting: true,
      };
    }
    if (isPaused) return { ...base, stepIndex, step: `paused: green ready for preview; blue serves`, isWaiting: true };
    // The gate opened when the last of the preview instances became ready.
    const readySince = Math.max(...greenScale.ready.map((i) => i.readyAtMs ?? nowMs));
    const waitedMs = nowMs - readySince;
    if (waitedMs < blueGreen.autoPromoteMs)
      return {
        ...base,
        stepIndex,
        step: `green ready for preview; promoting by itself in ${Math.ceil((blueGreen.autoPromoteMs - waitedMs) / 1000)}s`,
        isWaiting: true,
      };
    stepIndex = BLUE_GREEN_SWITCH_STEP;
    // Green grows only when its preview was smaller (a rollback previews nothing: it switches back).
    const step = previewCount < replicas ? `promoting: green (revision ${green}) grows from ${previewCount} to ${replicas}` : `switching to revision ${green}`;
    return { ...base, stepIndex, step };
  }

  if (greenReady < replicas || isPaused) {
    return {
      ...base,
      stepIndex,
      step: isPaused ? `paused before the switch: green ${greenReady}/${replicas} ready` : `green ${greenReady}/${replicas} ready; switching when all are`,
    };
  }
  if (!hooks.isTrafficAllowed) return awaitingPreTraffic;
  const switched = { ...base, stepIndex, traffic: { weights: [{ revision: green, weight: 100 }], routes: [], previews: [], sticky: null, mirror: null } };
  if (!hooks.isStepChecked)
    return {
      ...switched,
      step: `switched: green (revision ${green}) serves all traffic; waiting for postTraffic hooks`,
      isWaiting: true,
      hookPoint: 'postTraffic',
    };
  return { ...switched, isComplete: true, step: `switched: green (revision ${green}) serves all traffic` };
}

/** `cutover promote` of a blue-green rollout: past the gate (green still has to be ready before the switch). */
export function promoteBlueGreen(stepIndex: number): number {
  return Math.max(stepIndex, BLUE_GREEN_SWITCH_STEP);
}

/**
 * A rollback is as quick as it can be safely: after a blue-green or canary rollout, the old
 * revision starts at full size beside the current one and takes all traffic at once, without
 * preview or steps. Inside blue-green's scale-down window the old instances are still up and
 * ready, so that is a routing change only.
 */
export function switchBackAtOnce(strategySpec: StrategySpec): { strategy: StrategyName; strategySpec: StrategySpec } {
  return { strategy: 'blue-green', strategySpec: { ...strategySpec, blueGreen: { ...strategySpec.blueGreen!, autoPromoteMs: 0, previewReplicas: null } } };
}

/** Blue-green: a gate before the switch, blue kept warm after it, analyses before and after the switch. */
export const blueGreenStrategy: Strategy = {
  name: 'blue-green',
  plan: (input) => planBlueGreen({ ...input, blueGreen: input.strategy.blueGreen!, blue: input.stable, green: input.target }),
  promote: (stepIndex) => promoteBlueGreen(stepIndex),
  abortScaleDownDelayMs: (strategy) => strategy.blueGreen!.abortScaleDownDelayMs,
  scaleDownDelayMs: (strategy) => strategy.blueGreen!.scaleDownDelayMs,
  progressDeadlineMs: (strategy) => strategy.blueGreen!.progressDeadlineMs,
  analysisPoints: (strategy) => ({
    ...NO_ANALYSIS_POINTS,
    pre: strategy.blueGreen?.prePromotionAnalysis?.templates ?? null,
    post: strategy.blueGreen?.postPromotionAnalysis?.templates ?? null,
    postKey: 'postPromotion',
  }),
  stepNames: () => ['preview', 'switch'],
  previewListen: (strategy) => strategy.blueGreen?.preview.listen ?? null,
  rollbackVia: switchBackAtOnce,
};
