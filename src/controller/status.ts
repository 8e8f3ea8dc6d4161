import type { InstanceState, RolloutPhase, StrategyName } from '../model/rollout.js';
import { describeStep } from '../strategies/canary.js';
import type { RolloutRecord, Store, TrafficShare } from '../store/store.js';

/** The `cutover status --json` contract. Extend, never rename. */
export interface StatusReport {
  apps: AppStatus[];
  /** Set while the state cannot be written (disk full): why. Every active rollout shows `paused` meanwhile. */
  storageFault?: string;
}

export interface AppStatus {
  name: string;
  /** The stable revision number, or null before the first successful deploy. */
  revision: number | null;
  rollout: RolloutStatus | null;
  instances: InstanceStatus[];
  /** A cluster app driven by another cutover: who holds its Lease (the state shown is the one it wrote to the cluster). */
  drivenBy?: string;
  /** The split the proxy serves now: percent of weighted traffic per revision (routes and previews aside). */
  traffic: TrafficShare[];
}

export interface RolloutStatus {
  id: number;
  phase: RolloutPhase;
  strategy: StrategyName;
  step: string;
  fromRevision: number | null;
  toRevision: number;
  reason: string | null;
  /** The steps of a canary (or blue-green's preview and switch), in words; empty for rolling. */
  steps: string[];
  /** Index into `steps` of the current one; `steps.length` once past the last. */
  stepIndex: number;
  /** What the rollout waits for from a person (`cutover promote`), or null. */
  gate: string | null;
  /** True while a person paused it (`cutover pause`). */
  isPausedByUser: boolean;
  /** A revision kept up out of traffic after the rollout ended, and until when (ISO time). */
  warm: { revision: number; until: string } | null;
  /** Its analysis runs: where each template stands, with the last measurement in words. */
  analysis: { template: string; point: string; state: string; measurements: number; last: string | null; reason: string | null }[];
}

export interface InstanceStatus {
  id: string;
  revision: number;
  pid: number | null;
  port: number;
  state: InstanceState;
  /** Why it failed, where cutover knows it: a cluster pod that crash-loops or cannot pull its image (its state is `failed`). */
  reason?: string;
}

/**
 * Each app with its latest rollout (active or the last one that ended) and its instances:
 * the live ones, plus those that stopped or failed during that rollout, so a script can see why.
 */
export function buildStatus(store: Store, onlyApp?: string): StatusReport {
  const apps = store.listApps().filter((a) => onlyApp === undefined || a.name === onlyApp);
  return {
    apps: apps.map(({ name, stableRevision }) => {
      const latest = store.listRollouts(name, 1)[0] ?? null;
      const instances = latest ? store.listInstances(name, { includeStopped: true, sinceMs: latest.startedAt }) : store.listInstances(name);
      return {
        name,
        revision: stableRevision,
        rollout: latest && {
          id: latest.id,
          phase: latest.phase,
          strategy: latest.strategy,
          step: latest.step,
          fromRevision: latest.fromRevision,
          toRevision: latest.toRevision,
          reason: latest.reason,
          steps: stepNames(latest, store),
          stepIndex: latest.stepIndex,
          gate: latest.gate,
          isPausedByUser: latest.pausedAt !== null,
          warm:
            latest.warmRevision !== null && latest.warmUntil !== null && latest.warmUntil > Date.now()
              ? { revision: latest.warmRevision, until: new Date(latest.warmUntil).toISOString() }
              : null,
          analysis: store.listAnalysisRuns({ rolloutId: latest.id }).map((run) => {
            const measured = store.listAnalysisMeasurements({ rolloutId: latest.id, pointKey: run.pointKey, template: run.template });
            return {
              template: run.template,
              point: run.pointKey,
              state: run.state,
              measurements: measured.length,
              last: measured.at(-1)?.sentence ?? null,
              reason: run.reason,
            };
          }),
        },
        instances: instances.map((i) => ({ id: i.id, revision: i.revision, pid: i.pid, port: i.port, state: i.state })),
        traffic: store.traffic(name),
      };
    }),
  };
}

function stepNames(rollout: RolloutRecord, store: Store): string[] {
  if (rollout.fromRevision === null || rollout.strategy === 'rolling') return [];
  if (rollout.strategy === 'blue-green') return ['preview', 'switch'];
  const spec = rollout.strategySpec ?? store.getRevision(rollout.app, rollout.toRevision)?.spec.strategy;
  return (spec?.canary?.steps ?? []).map(describeStep);
}
