export const ROLLOUT_PHASES = ['progressing', 'paused', 'promoted', 'aborted', 'rolled-back', 'failed'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

export const TERMINAL_PHASES: readonly RolloutPhase[] = ['promoted', 'aborted', 'rolled-back', 'failed'];

export function isTerminalPhase(phase: RolloutPhase): boolean {
  return TERMINAL_PHASES.includes(phase);
}

export const INSTANCE_STATES = ['starting', 'ready', 'draining', 'stopped', 'failed'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export const STRATEGY_NAMES = ['rolling', 'blue-green', 'canary'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** Which revision a rollout is converging to: forward to the new one, or back to the old. */
export type RolloutDirection = 'forward' | 'back';

export interface Rollout {
  id: number;
  app: string;
  strategy: StrategyName;
  fromRevision: number | null;
  toRevision: number;
  phase: RolloutPhase;
  direction: RolloutDirection;
  /** Human-readable current step, e.g. "2/3 new ready". */
  step: string;
  reason: string | null;
  startedAt: number;
  updatedAt: number;
}
