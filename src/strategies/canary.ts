import type { CanarySpec, CanaryStep, CountOrPercent } from '../model/spec.js';
import { resolveCountOrPercent } from './count-or-percent.js';
import { HOOKS_PASSED, scaleRevision, type HookProgress, type ObservedInstance, type StrategyPlan, type TrafficIntent } from './strategy-plan.js';

export interface CanaryInput {
  app: string;
  replicas: number;
  canary: CanarySpec;
  stable: number;
  /** The revision being rolled out. */
  canaryRevision: number;
  /** Live instances (starting, ready); draining ones are on their way out and left out. */
  instances: readonly ObservedInstance[];
  /** Index into `canary.steps`; `steps.length` means the final promotion. */
  stepIndex: number;
  /** Monotonic ms when the current step began (pauses count from it). */
  stepStartedAtMs: number;
  /** Paused by a person (`cutover pause`): nothing advances. */
  isPaused: boolean;
  nowMs: number;
  /** Hook state; default: none pending. */
  hooks?: HookProgress;
  /** The current step's analysis passed (an `analysis` step); default: false. */
  isStepAnalysisPassed?: boolean;
}

/**
 * Canary arithmetic. Stable keeps `replicas` instances until the end, so an abort sends all
 * traffic back at once with full capacity. The canary's size follows its weight (or a fixed
 * count, or the last `setCanaryScale`); a `setWeight` step is done once that many canary
 * instances are ready, a timed pause once its time has passed, a manual gate only by
 * `cutover promote`. After the last step the canary grows to `replicas`, takes all traffic,
 * and stable is drained and stopped. A pure function.
 *
 * Hooks: until preTraffic passes the canary gets no real traffic (weight 0, no routes, no
 * mirror); its hooks run at the first step that would give it traffic, once the canary has that
 * step's size. postTraffic runs at each setWeight step once it is in force, and after the final
 * promotion (stable stays up, out of traffic, until it passes); the step advances only after.
 */
export function planCanary(input: CanaryInput): StrategyPlan {
  const { app, replicas, canary, stable, canaryRevision, instances, isPaused, nowMs } = input;
  const hooks = input.hooks ?? HOOKS_PASSED;
  const { steps } = canary;
  const stepIndex = Math.min(Math.max(0, input.stepIndex), steps.length);
  const isFinal = stepIndex === steps.length;
  // Until the canary is at full size, the final promotion keeps the last step's weight.
  const weight = weightAt(steps, stepIndex);
  const canaryTarget = isFinal ? replicas : canarySizeAt(canary, steps, stepIndex, replicas);

  const stableScale = scaleRevision(instances, stable, replicas);
  const canaryScale = scaleRevision(instances, canaryRevision, canaryTarget);
  const others = instances.filter((i) => i.revision !== stable && i.revision !== canaryRevision).map((i) => i.id);
  const canaryReady = canaryScale.ready.length;
  const position = isFinal ? `final: canary ${canaryReady}/${replicas} ready` : `step ${stepIndex + 1}/${steps.length}: ${describeStep(steps[stepIndex]!)}`;

  const held: TrafficIntent = {
    weights: [
      { revision: canaryRevision, weight: 0 },
      { revision: stable, weight: 100 },
    ],
    routes: [],
    previews: [],
    sticky: null,
    mirror: null,
  };
  const takesTraffic = isFinal || weight > 0 || canary.routes.length > 0 || canary.mirror.percent > 0;
  const isHeldAtSize = !hooks.isTrafficAllowed && takesTraffic && canaryReady >= canaryTarget;

  if (isFinal && canaryReady >= replicas && hooks.isTrafficAllowed) {
    const traffic: TrafficIntent = { weights: [{ revision: canaryRevision, weight: 100 }], routes: [], previews: [], sticky: null, mirror: null };
    if (!hooks.isStepChecked) {
      // Stable stays up, out of traffic, until the check passed: a rollback then starts nothing.
      const stopIds = [...canaryScale.stopIds, ...stableScale.stopIds, ...others];
      return {
        starts: [],
        stopIds,
        traffic,
        stepIndex,
        isComplete: false,
        step: `promoted: canary (revision ${canaryRevision}) serves all traffic; waiting for postTraffic hooks`,
        gate: null,
        isWaiting: true,
        hookPoint: 'postTraffic',
      };
    }
    // Everything else leaves the plan now and is stopped once drained.
    const stopIds = [...canaryScale.stopIds, ...instances.filter((i) => i.revision !== canaryRevision).map((i) => i.id)];
    return {
      starts: [],
      stopIds,
      traffic,
      stepIndex,
      isComplete: true,
      step: `promoted: canary (revision ${canaryRevision}) serves all traffic`,
      gate: null,
      isWaiting: false,
      hookPoint: null,
    };
  }

  const traffic: TrafficIntent = hooks.isTrafficAllowed
    ? {
        weights: [
          { revision: canaryRevision, weight },
          { revision: stable, weight: 100 - weight },
        ],
        routes: canary.routes.map((match) => ({ revision: canaryRevision, match })),
        previews: [],
        sticky: canary.sticky,
        mirror: canary.mirror.percent > 0 ? { revision: canaryRevision, percent: canary.mirror.percent } : null,
      }
    : held;
  const starts = [
    { revision: stable, count: stableScale.start },
    { revision: canaryRevision, count: canaryScale.start },
  ].filter((s) => s.count > 0);
  const base = {
    starts,
    stopIds: [...stableScale.stopIds, ...canaryScale.stopIds, ...others],
    traffic,
    isComplete: false,
    gate: null,
    isWaiting: false,
    hookPoint: null,
  };
  if (isFinal && !isHeldAtSize) return { ...base, stepIndex, step: position };

  const current = steps[stepIndex]!;
  const summary = `${position}; weight ${weight}%, canary ${canaryReady}/${canaryTarget} ready`;
  if (isHeldAtSize) {
    return {
      ...base,
      stepIndex,
      step: `${isFinal ? position : summary}, out of traffic; waiting for preTraffic hooks`,
      isWaiting: true,
      hookPoint: 'preTraffic',
    };
  }
  // A manual gate stays a gate while a person's pause holds too: only promote passes it.
  if ('pause' in current && current.pause === null) {
    return {
      ...base,
      stepIndex,
      step: `${summary}; waiting for cutover promote`,
      gate: `canary at ${weight}%: run cutover promote ${app} to go on`,
      isWaiting: true,
    };
  }
  if (isPaused) return { ...base, stepIndex, step: `paused at ${summary}`, isWaiting: true };
  if ('pause' in current && current.pause !== null) {
    const leftMs = input.stepStartedAtMs + current.pause - nowMs;
    if (leftMs > 0) return { ...base, stepIndex, step: `${summary}; ${Math.ceil(leftMs / 1000)}s left`, isWaiting: true };
    return { ...base, stepIndex: stepIndex + 1, step: summary };
  }
  // setWeight, setCanaryScale and analysis are done once the canary has the size they call for.
  if (canaryReady < canaryTarget) return { ...base, stepIndex, step: summary };
  if ('analysis' in current) {
    // The controller runs the templates beside the loop; the step is done once they all passed.
    if (input.isStepAnalysisPassed !== true)
      return {
        ...base,
        stepIndex,
        step: `${summary}; analysis running (${current.analysis.templates.join(', ')})`,
        isWaiting: true,
        analysisPoint: `step@${stepIndex}`,
      };
    return { ...base, stepIndex: stepIndex + 1, step: summary };
  }
  if ('setWeight' in current && !hooks.isStepChecked)
    return { ...base, stepIndex, step: `${summary}; waiting for postTraffic hooks`, isWaiting: true, hookPoint: 'postTraffic' };
  return { ...base, stepIndex: stepIndex + 1, step: summary };
}

/** The weight in force at a step: the last `setWeight` up to it, 0 before any. */
export function weightAt(steps: readonly CanaryStep[], stepIndex: number): number {
  for (let i = Math.min(stepIndex, steps.length - 1); i >= 0; i--) {
    const step = steps[i]!;
    if ('setWeight' in step) return step.setWeight;
  }
  return 0;
}

/** The canary's size at a step: the last `setCanaryScale` up to it, else `canaryReplicas` for the weight. */
export function canarySizeAt(canary: CanarySpec, steps: readonly CanaryStep[], stepIndex: number, replicas: number): number {
  for (let i = Math.min(stepIndex, steps.length - 1); i >= 0; i--) {
    const step = steps[i]!;
    if (!('setCanaryScale' in step)) continue;
    if (step.setCanaryScale === 'auto') break;
    return Math.min(replicas, resolveCountOrPercent(step.setCanaryScale as CountOrPercent, replicas, 'up'));
  }
  if (canary.canaryReplicas !== 'auto') return Math.min(replicas, canary.canaryReplicas);
  return Math.max(1, Math.ceil((replicas * weightAt(steps, stepIndex)) / 100));
}

export function describeStep(step: CanaryStep): string {
  if ('setWeight' in step) return `setWeight ${step.setWeight}`;
  if ('pause' in step) return step.pause === null ? 'pause (until promoted)' : `pause ${formatSeconds(step.pause)}`;
  if ('analysis' in step) return `analysis ${step.analysis.templates.join(', ')}`;
  return `setCanaryScale ${step.setCanaryScale}`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** `cutover promote`: the current step counts as done; `--full` goes straight to the final promotion. */
export function promoteCanary(stepIndex: number, stepCount: number, isFull: boolean): number {
  return isFull ? stepCount : Math.min(stepIndex + 1, stepCount);
}
