/**
 * Every kind of event the controller stores. Each one is written right after (or with) the state
 * change it names, so these are also the persisted transitions a crash test can stop at.
 */
export const EVENT_KINDS = [
  'rollout-started',
  'rollout-step',
  'rollout-gate',
  'rollout-promote',
  'rollout-paused',
  'rollout-resumed',
  'rollout-promoted',
  'rollout-aborted',
  'rollout-rolling-back',
  'rollout-rolled-back',
  'rollout-failed',
  'rollout-storage-paused',
  'rollout-storage-resumed',
  'instance-starting',
  'instance-ready',
  'instance-adopted',
  'instance-unhealthy',
  'instance-failed',
  'instance-draining',
  'instance-killed',
  'instance-stop-forced',
  'instance-stopped',
  'app-scaled',
  'app-removed',
  'traffic',
  'traffic-failed',
  'release-taken',
  'release-build-started',
  'release-build-output',
  'release-built',
  'release-build-failed',
  'release-pruned',
  'hooks-skipped',
  'hook-started',
  'hook-restarted',
  'hook-succeeded',
  'hook-failed',
  'hook-cancelled',
  'hook-interrupted',
  'analysis-started',
  'analysis-measurement',
  'analysis-successful',
  'analysis-failed',
  'analysis-inconclusive',
  'analysis-rerun',
  'rollout-report',
  'cluster-state',
  'cluster-command',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Where the parts of the control plane say what happened (the controller's EventLog). */
export interface EventSink {
  emit(app: string, rolloutId: number | null, kind: EventKind, message: string): void;
  /** Emits about the app's rollout in progress, if any. */
  emitForApp(app: string, kind: EventKind, message: string): void;
}
