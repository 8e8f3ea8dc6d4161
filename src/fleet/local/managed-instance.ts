import type { AppSpec } from '../../model/app-spec.js';
import type { InstanceState } from '../../model/rollout.js';
import type { InstanceRecord } from '../../model/records.js';

/** The controller's live view of one instance; `record` is what is persisted. */
export interface ManagedInstance {
  record: InstanceRecord;
  host: string;
  spec: AppSpec;
  /** Monotonic times. */
  startedAtMs: number;
  readyAtMs: number | null;
  /** The rollout that started it, if any: its failures judge that rollout. */
  rolloutId: number | null;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
  lastProbe: string;
  /** Set once a stop was decided, so an exit is not mistaken for a crash. */
  isStopping: boolean;
}

export function isLive(state: InstanceState): boolean {
  return state === 'starting' || state === 'ready';
}
