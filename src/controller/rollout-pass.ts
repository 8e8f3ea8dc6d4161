import type { AnalysisRunner } from '../analysis/analysis-runner.js';
import type { ClusterCoordinator } from '../fleet/cluster/cluster-coordinator.js';
import type { ClusterFleet } from '../fleet/cluster/cluster-fleet.js';
import type { Fleet } from '../fleet/fleet.js';
import type { LocalFleet } from '../fleet/local/local-fleet.js';
import { hookEnv } from '../hooks/hook-env.js';
import { failedHook, hookProgress } from '../hooks/hook-point.js';
import type { HookRunner } from '../hooks/hook-runner.js';
import { isTerminalPhase } from '../model/rollout.js';
import type { HookPoint } from '../model/app-spec.js';
import type { Store } from '../store/store.js';
import type { RolloutRecord } from '../model/records.js';
import { strategyNamed } from '../strategies/strategies.js';
import { EQUAL_SHARES } from '../strategies/strategy-plan.js';
import { choosePlan, strategyOf } from './choose-plan.js';
import { isRestart, restartTraffic } from './restart-view.js';
import type { EventLog } from './event-log.js';
import type { RolloutAnalyses } from './rollout-analyses.js';
import type { RolloutTransitions } from './rollout-transitions.js';
import type { TrafficPusher } from './traffic-pusher.js';
import type { ReleaseRollouts } from './release-rollouts.js';

export interface RolloutPassOptions {
  releases: ReleaseRollouts;
  store: Store;
  events: EventLog;
  hooks: HookRunner;
  analyses: AnalysisRunner;
  rolloutAnalyses: RolloutAnalyses;
  transitions: RolloutTransitions;
  traffic: TrafficPusher;
  cluster: ClusterCoordinator;
  local: LocalFleet;
  clusterFleet: ClusterFleet;
  rolloutFailures: Map<number, string>;
  requestReconcile: (app: string) => void;
  scheduleReconcile: (app: string, delayMs: number) => void;
  now: () => number;
  monotonicFrom: (wallClockMs: number) => number;
}

/**
 * One reconcile pass over an app: judge the rollout (failures, analyses, deadlines), observe the
 * fleet, ask the strategy for the plan, and apply the difference in the order the zero-downtime
 * rules demand: traffic first, then stops, hooks and analyses, starts, and the record last.
 * Every step is computed from stored state plus observation, so a pass can repeat at any point.
 */
export class RolloutPass {
  constructor(private readonly options: RolloutPassOptions) {}

  /**
   * Returns whether the app is settled: a local app with no rollout, no warm revision, every
   * instance ready and none to start or stop. Nothing timed is pending for a settled app; what
   * changes it (an exit, a failed check, a command) asks for a pass itself.
   */
  async run(app: string): Promise<boolean> {
    // A cluster app is driven by one cutover at a time: without its Lease, nothing here decides anything.
    if (!(await this.options.cluster.mayDrive(app))) return false;
    const isSettled = await this.reconcile(app);
    await this.options.cluster.writeState(app);
    return isSettled === true;
  }

  private async reconcile(app: string): Promise<boolean | void> {
    const { store, hooks, transitions } = this.options;
    const active = store.activeRollout(app);
    hooks.cancelStale(app);
    this.options.analyses.cancelStale(app);
    for (const ended of store.listRollouts(app, 3)) {
      hooks.advanceFinal(ended, (point) => this.hookEnvOf(ended, point));
      transitions.writeReport(ended);
    }
    const rollout = this.judge(active);
    // The new release builds before anything else of the rollout; its end wakes this loop.
    if (rollout && this.options.releases.isBuilding(rollout)) return;
    if (!rollout) this.options.releases.pruneWhenSettled(app);

    const nowMs = this.options.now();
    // A cluster app's instances are its pods; a local app's are the processes this controller runs.
    const isCluster = this.options.cluster.backendOf(app) !== null;
    if (!isCluster) this.options.clusterFleet.forget(app);
    const fleet: Fleet = isCluster ? this.options.clusterFleet : this.options.local;
    const observed = await fleet.observe(app, nowMs);
    const warm = rollout ? null : this.warmRevision(app);
    const isForward = rollout?.direction === 'forward';
    const choice = choosePlan({
      app,
      rollout,
      stableRevision: store.stableRevision(app),
      warmRevision: warm,
      specOf: (revision) => store.getRevision(app, revision)!.spec,
      replicas: store.replicasOf(app) ?? undefined,
      instances: observed.instances,
      stepStartedAtMs: rollout ? this.options.monotonicFrom(rollout.stepStartedAt) : nowMs,
      nowMs,
      hooks: isForward ? this.options.rolloutAnalyses.withAnalysis(rollout, hookProgress(rollout, store.listHookRuns({ rolloutId: rollout.id }))) : undefined,
      isStepAnalysisPassed: isForward ? this.options.rolloutAnalyses.isStepPassed(rollout) : false,
      batchAnalysis: isForward ? this.options.rolloutAnalyses.batchAnalysis(rollout) : null,
    });
    const { target } = choice;
    // A hook interrupted by a crash holds the rollout at a gate until a person decides.
    const interruption = rollout && choice.plan.hookPoint ? hooks.interruption(rollout, choice.plan.hookPoint) : null;
    const plan = interruption ? { ...choice.plan, gate: interruption, step: `paused: ${choice.plan.step}` } : choice.plan;
    if (target === null) {
      // Nothing should run (a first deploy failed or was aborted, or waits for preDeploy): take everything out and stop it.
      if (await this.options.traffic.push(app, null, EQUAL_SHARES, [])) return;
      await observed.stopEverything();
      if (rollout && plan.hookPoint) {
        hooks.advance(rollout, plan.hookPoint, (point) => this.hookEnvOf(rollout, point));
        if (rollout.step !== plan.step && rollout.pausedAt === null) store.updateRollout(rollout.id, { step: plan.step });
      }
      return;
    }
    const spec = store.getRevision(app, target)!.spec;

    if (isForward && rollout.phase !== 'paused' && !plan.isWaiting) {
      const failure = transitions.deadlineFailure(rollout, plan.step);
      if (failure) {
        transitions.turnBackOrFail(rollout, failure);
        return;
      }
    }

    // Rule 2: an instance leaves the traffic plan before it is stopped; no plan, no stop.
    const serving = observed.serving(plan.stopIds, warm);
    const traffic = isRestart(rollout)
      ? restartTraffic(plan.traffic, serving, new Set(observed.instances.filter((i) => i.rolloutId !== rollout!.id).map((i) => i.id)), target)
      : { intent: plan.traffic, serving };
    const planError = await this.options.traffic.push(app, spec, traffic.intent, traffic.serving);
    if (planError) {
      if (isForward && !this.options.rolloutFailures.has(rollout.id)) {
        this.options.rolloutFailures.set(rollout.id, `the proxy could not apply the traffic plan: ${planError}`);
        this.options.requestReconcile(app);
      }
      return;
    }
    observed.beginStops(plan.stopIds, `not needed by revision ${target}`);
    // Hooks run beside the loop, against the traffic plan just confirmed; their end wakes it.
    if (isForward && plan.hookPoint) hooks.advance(rollout, plan.hookPoint, (point) => this.hookEnvOf(rollout, point));
    if (isForward) this.options.rolloutAnalyses.advance(rollout, plan);
    await observed.applySizes(plan.starts, plan.stopIds, (revision) => (isForward && revision === rollout.toRevision ? rollout.id : null));

    if (!rollout) {
      return (
        !isCluster &&
        warm === null &&
        plan.stopIds.length === 0 &&
        plan.starts.every((start) => start.count === 0) &&
        observed.instances.every((instance) => instance.state === 'ready') &&
        !observed.isDraining()
      );
    }
    // The record may have changed during the awaits above (a person's abort or rollback): act on the current one.
    const current = store.getRollout(rollout.id);
    if (!current || isTerminalPhase(current.phase) || current.direction !== rollout.direction || current.stepIndex !== rollout.stepIndex) return;
    if (plan.stepIndex !== current.stepIndex) {
      store.updateRollout(current.id, {
        stepIndex: plan.stepIndex,
        stepStartedAt: Date.now(),
        gate: null,
        phase: current.pausedAt === null ? 'progressing' : 'paused',
        step: plan.step,
      });
      this.options.events.emit(app, current.id, 'rollout-step', plan.step);
      this.options.requestReconcile(app);
      return;
    }
    // Done means the old instances are gone too, not merely out of traffic (blue kept warm aside).
    if (plan.isComplete && !observed.isDraining()) {
      transitions.complete(current);
      this.options.requestReconcile(app);
      return;
    }
    const phase = current.pausedAt !== null || plan.gate !== null ? 'paused' : 'progressing';
    if (current.step !== plan.step || current.gate !== plan.gate || current.phase !== phase) {
      store.updateRollout(current.id, { step: plan.step, gate: plan.gate, phase });
      if (plan.gate !== null && current.gate !== plan.gate) this.options.events.emit(app, current.id, 'rollout-gate', `waiting: ${plan.gate}`);
      else if (current.step !== plan.step) this.options.events.emit(app, current.id, 'rollout-step', plan.step);
    }
  }

  /**
   * Judges the active rollout before planning: a failed instance, hook or analysis turns a
   * forward rollout back (or fails a first deploy); an inconclusive analysis pauses it; going
   * back past its deadline fails it. Returns the rollout still active, or null.
   */
  private judge(active: RolloutRecord | null): RolloutRecord | null {
    const { store, transitions } = this.options;
    let rollout = active;
    if (rollout && rollout.direction === 'forward') {
      // The deadline of a forward rollout is checked later, once the planner says whether it waits on purpose.
      const hookFailure = failedHook(store.listHookRuns({ rolloutId: rollout.id }));
      const failure = this.options.rolloutFailures.get(rollout.id) ?? hookFailure?.reason;
      if (failure) {
        // A failed preDeploy started nothing: the deploy ends there, and the stable revision stays.
        const isBeforeStart = hookFailure?.point === 'preDeploy' && !this.options.rolloutFailures.has(rollout.id);
        rollout = isBeforeStart ? transitions.fail(rollout, `${failure}; nothing was started`) : transitions.turnBackOrFail(rollout, failure);
      }
    }
    if (rollout && rollout.direction === 'forward' && !isTerminalPhase(rollout.phase)) {
      // Failed analysis: roll back by itself. Inconclusive: pause, and say why.
      const { failed, inconclusive } = this.options.analyses.outcome(rollout.id);
      if (failed) {
        rollout = transitions.turnBackOrFail(rollout, `analysis ${failed.template} failed: ${failed.reason ?? ''}`);
      } else if (inconclusive && rollout.pausedAt === null) {
        const reason = `analysis ${inconclusive.template} was inconclusive: ${inconclusive.reason ?? ''}`;
        rollout = store.updateRollout(rollout.id, { phase: 'paused', pausedAt: Date.now(), reason });
        const app = rollout.app;
        this.options.events.emit(
          app,
          rollout.id,
          'rollout-paused',
          `rollout ${rollout.id} paused: ${reason}; run cutover resume ${app} to measure again, cutover promote ${app} to go on, or cutover rollback ${app}`,
        );
      }
    }
    if (rollout && rollout.direction !== 'forward') {
      // Going back can fail too (the old revision no longer starts): end it rather than hang.
      const failure = transitions.deadlineFailure(rollout, rollout.step);
      if (failure) rollout = transitions.fail(rollout, `could not roll back to revision ${rollout.fromRevision}: ${failure}; first: ${rollout.reason ?? ''}`);
    }
    return rollout && isTerminalPhase(rollout.phase) ? null : rollout;
  }

  /** The revision a finished rollout left running out of traffic, while its time lasts. */
  private warmRevision(app: string): number | null {
    const last = this.options.store.listRollouts(app, 1)[0];
    if (!last || last.warmRevision === null || last.warmUntil === null) return null;
    if (Date.now() < last.warmUntil) {
      // Look again when the window closes, so the warm instances go on time.
      this.options.scheduleReconcile(app, last.warmUntil - Date.now());
      return last.warmRevision;
    }
    return null;
  }

  private hookEnvOf(rollout: RolloutRecord, point: HookPoint): Record<string, string> {
    const spec = this.options.store.getRevision(rollout.app, rollout.toRevision)!.spec;
    const previewListen = strategyNamed(rollout.strategy).previewListen(strategyOf(rollout, spec));
    const readyInstance = this.options.local.readyOf(rollout.app, rollout.toRevision)[0] ?? null;
    return hookEnv(rollout, point, spec, { previewListen, readyInstance });
  }
}
