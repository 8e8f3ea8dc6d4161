import { isTerminalPhase } from '../model/rollout.js';
import { strategyNamed } from '../strategies/strategies.js';
import type { Store } from '../store/store.js';
import type { RolloutRecord } from '../model/records.js';
import type { InstanceStatus, StatusReport } from '../protocol/status.js';
import { isoTime } from '../util/iso-time.js';

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
              ? { revision: latest.warmRevision, until: isoTime(latest.warmUntil) }
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
  if (rollout.fromRevision === null) return [];
  const strategy = rollout.strategySpec ?? store.getRevision(rollout.app, rollout.toRevision)?.spec.strategy;
  return strategy ? strategyNamed(rollout.strategy).stepNames(strategy) : [];
}

/** What only the running controller knows, laid over the stored status. */
export interface RuntimeView {
  /** A cluster app's pods as last observed (instead of stored instances), or null for other apps. */
  podsOf: (app: string) => InstanceStatus[] | null;
  /** A live local instance's last health check answer, or null. */
  lastCheckOf: (instanceId: string) => string | null;
  /** Who else drives a cluster app, or null. */
  holderOf: (app: string) => string | null;
  /** Why the state cannot be written now, or null. */
  storageFault: string | null;
}

/**
 * The status as the controller sees it now: a cluster app's instances are its pods; an app
 * another cutover drives says which; while the disk refuses writes, every active rollout shows
 * as held (what is stored says progressing; what happens is a hold until writes go through).
 */
export function withRuntimeView(report: StatusReport, view: RuntimeView): StatusReport {
  const apps = report.apps.map((app) => {
    const pods = view.podsOf(app.name);
    const holder = view.holderOf(app.name);
    const withPods = pods ? { ...app, instances: pods } : { ...app, instances: app.instances.map((i) => withLastCheck(i, view.lastCheckOf(i.id))) };
    return holder ? { ...withPods, drivenBy: holder } : withPods;
  });
  const fault = view.storageFault;
  if (!fault) return { ...report, apps };
  const reason = `held: ${fault}; traffic stays as it is, and the rollout goes on once the state can be written`;
  return {
    ...report,
    storageFault: fault,
    apps: apps.map((app) =>
      app.rollout && !isTerminalPhase(app.rollout.phase)
        ? { ...app, rollout: { ...app.rollout, phase: 'paused', reason, step: `${app.rollout.step} (${reason})` } }
        : app,
    ),
  };
}

function withLastCheck(instance: InstanceStatus, lastCheck: string | null): InstanceStatus {
  return lastCheck === null ? instance : { ...instance, lastCheck };
}

/** Adds the front door's counts to a report, when the proxy has shared listeners (`unknownHostRequests` not null). */
export function withFrontDoor(report: StatusReport, unknownHostRequests: number | null): StatusReport {
  return unknownHostRequests === null ? report : { ...report, frontDoor: { unknownHostRequests } };
}
