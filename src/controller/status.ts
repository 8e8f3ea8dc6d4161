import type { InstanceState, RolloutPhase, StrategyName } from '../model/rollout.js';
import type { Store } from '../store/store.js';

/** The `cutover status --json` contract. Extend, never rename. */
export interface StatusReport {
  apps: AppStatus[];
}

export interface AppStatus {
  name: string;
  /** The stable revision number, or null before the first successful deploy. */
  revision: number | null;
  rollout: RolloutStatus | null;
  instances: InstanceStatus[];
}

export interface RolloutStatus {
  id: number;
  phase: RolloutPhase;
  strategy: StrategyName;
  step: string;
  fromRevision: number | null;
  toRevision: number;
  reason: string | null;
}

export interface InstanceStatus {
  id: string;
  revision: number;
  pid: number | null;
  port: number;
  state: InstanceState;
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
        },
        instances: instances.map((i) => ({ id: i.id, revision: i.revision, pid: i.pid, port: i.port, state: i.state })),
      };
    }),
  };
}
