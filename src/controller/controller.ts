import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError } from '../errors.js';
import { HOOK_POINTS, type AppSpec, type HookPoint, type HostPort, type StrategySpec } from '../model/spec.js';
import { isTerminalPhase, type StrategyName } from '../model/rollout.js';
import type { TrafficRouter } from '../router/traffic-router.js';
import type { Runtime, StartedInstance } from '../runtime/runtime.js';
import { KubernetesApiError } from '../runtime/kubernetes/kube-clients.js';
import { probe } from '../runtime/health-check.js';
import { promoteBlueGreen } from '../strategies/blue-green.js';
import { promoteCanary } from '../strategies/canary.js';
import { EQUAL_SHARES, type TrafficIntent } from '../strategies/strategy-plan.js';
import { rolloutAlreadyActive, type InstanceRecord, type RolloutRecord, type Store } from '../store/store.js';
import { buildTrafficPlan, longLivedOf, outlierDetectionOf, trafficShares, type ServingInstance } from './build-traffic-plan.js';
import { kubernetesBackend, leaseHolderFor, type RevisionBackend, type RevisionBackendFactory } from './revision-backend.js';
import { clusterStateOf } from './cluster-state.js';
import { DEFAULT_LEASE_DURATION_SECONDS } from '../runtime/kubernetes/kubernetes-lease.js';
import { COMMAND_KEPT_MS, type ClusterCommand, type CommandOutcome } from '../runtime/kubernetes/kubernetes-command-queue.js';
import { isPendingPod, replicaCounts, revisionInstances, type RevisionInstance } from './revision-instances.js';
import type { ObservedInstance } from '../strategies/strategy-plan.js';
import { batchOfPoint, choosePlan, progressDeadlineMs, strategyOf, withDefaults } from './choose-plan.js';
import { isLive, type ManagedInstance } from './instance.js';
import { buildStatus, type StatusReport } from './status.js';
import { HookRunner } from './hook-runner.js';
import { failedHook, hookProgress } from '../hooks/hook-point.js';
import { filterEnv } from '../runtime/local/local-runtime.js';
import { RestartBackoff } from './restart-backoff.js';
import { AnalysisRunner, type PointVerdict } from '../analysis/analysis-runner.js';
import { MeasurementHistory } from '../analysis/measurement-history.js';
import { liveMetrics, type LiveMetrics } from './live-metrics.js';
import { eventStored } from './event-channel.js';
import { BuiltinProvider, CommandProvider, HttpProvider, PrometheusProvider } from '../analysis/metric-provider.js';
import type { HookProgress, StrategyPlan } from '../strategies/strategy-plan.js';
import { buildDeployReport, REPORT_AFTER_MS } from './deploy-report.js';
import { lastLogLine } from './last-log-line.js';
import type { EventKind } from './event-kinds.js';
import { isStorageError, lowSpaceReason } from '../store/storage-fault.js';

export interface ControllerOptions {
  store: Store;
  runtime: Runtime;
  router: TrafficRouter;
  dataDir: string;
  /** Hashes an app spec; a changed hash makes a new revision. */
  specHash: (spec: AppSpec) => string;
  /** Monotonic milliseconds, for every timeout and backoff. */
  now?: () => number;
  log?: (line: string) => void;
  /** Called right after each event is stored (the crash switch of the fault-injection tests listens here). */
  onEventStored?: (kind: EventKind, rolloutId: number | null) => void;
  /**
   * Where apps run whose instances a cluster runs (Kubernetes): replica counts per revision and
   * that cluster's router instead of `runtime` and `router`. Default: `kubernetesBackend`, holding
   * Leases as `leaseHolderFor(dataDir)`.
   */
  revisionBackend?: RevisionBackendFactory;
}

export interface DeployResult {
  app: string;
  revision: number;
  /** Null when nothing changed. */
  rolloutId: number | null;
  isUnchanged: boolean;
}

const TICK_MS = 250;
/** A rollout that ended longer ago than the kept traffic seconds (KEEP_TRAFFIC_MS) gets no report. */
const REPORT_MAX_AGE_MS = 24 * 60 * 60_000;
/** How often the proxy's counts are gathered from every worker (off the request path). */
const MEASURE_EVERY_MS = 500;
/** Prune history every ten minutes, keeping this much. */
const PRUNE_EVERY_TICKS = (10 * 60_000) / TICK_MS;
const KEEP_EVENTS = 50_000;
const KEEP_ENDED_INSTANCES = 500;
/** Traffic seconds are kept a day: the before/during/after figures of any report written meanwhile. */
const KEEP_TRAFFIC_MS = 24 * 60 * 60_000;
const DRAIN_POLL_MS = 20;
/**
 * How long a stop waits for a leaving instance's in-flight requests: its drain timeout (all when
 * the app sets no `longLived`), or with `longLived.drain: wait` its long-lived timeout if longer, plus the time clients told to go
 * away have to answer (the proxy starts that timer when it applies the plan without the
 * instance, before this wait starts, so it ends them first).
 */
function drainWaitMs(spec: AppSpec): number {
  if (spec.longLived === undefined) return spec.drainTimeoutMs;
  const longLived = spec.longLived;
  return Math.max(spec.drainTimeoutMs, longLived.drain === 'wait' ? longLived.timeoutMs + LONG_LIVED_GOODBYE_MS : LONG_LIVED_GOODBYE_MS);
}

/** Time the proxy gives a WebSocket client to answer its close frame, and a little more. */
const LONG_LIVED_GOODBYE_MS = 2_500;

/** How much longer than the drain timeout a stop waits for the proxy to confirm the instance left. */
const PLAN_CONFIRM_GRACE_MS = 60_000;
/** An instance ready this long proves the revision can run; the restart backoff starts over. */
const STABLE_UPTIME_MS = 10_000;

interface AppRuntimeState {
  /** Serialises reconciles of one app; `isDirty` asks for one more pass. */
  running: Promise<void> | null;
  isDirty: boolean;
  /** While above 0, no reconcile pass starts (an abort moves traffic and records it as one step). */
  holds: number;
  /** The plan the proxy confirmed last; '' when unknown (a push failed or timed out). */
  lastPlanKey: string;
  lastPlanError: string | null;
  restartBackoff: RestartBackoff;
  /** First failure of an instance started by a rollout, keyed by rollout id. */
  rolloutFailures: Map<number, string>;
  /** Wakes a reconcile when a warm window closes. */
  wakeTimer: NodeJS.Timeout | null;
  /** Who else holds the app's Lease (cluster apps), or null. */
  leaseHolder: string | null;
  /** The cluster API failure logged last (cluster apps), until a reconcile pass goes through: an outage is logged once, not every tick. */
  clusterOutage: string | null;
  /** A cluster app's pods as last observed, for status; null for local apps. */
  clusterPods: RevisionInstance[] | null;
  /** A cluster app's state on the cluster, as this controller last took or wrote it. */
  clusterState: ClusterStateSync;
  /** The holder is running commands other cutovers sent (one pass at a time). */
  isServingCommands: boolean;
}

interface ClusterStateSync {
  /** Taken from the cluster since this controller last held the Lease: from now on it writes it. */
  isTaken: boolean;
  /** The state last written (JSON), so that only changes are written. */
  lastWritten: string | null;
  /** The serial of the state last read while another cutover held the Lease, and when. */
  seenSerial: number;
  readAtMs: number;
}

/** While another cutover holds a cluster app's Lease, its state is read this often, for status and history. */
const CLUSTER_STATE_READ_EVERY_MS = 2_000;
/** The Lease holder looks for commands from other cutovers this often (in ticks: 1 s). */
const COMMANDS_EVERY_TICKS = 4;
/** How long a command sent to the cutover that drives a cluster app waits for its answer. */
export const COMMAND_ANSWER_WAIT_MS = 15_000;

/**
 * The control loop. For each app it reads the rollout record, observes instances, asks the
 * strategy for the desired state and applies the difference: start, stop, push a traffic plan.
 * Each pass is computed from stored state plus observation, so passes can repeat safely.
 */
export class Controller {
  private readonly instances = new Map<string, ManagedInstance>();
  private readonly apps = new Map<string, AppRuntimeState>();
  /** Revision backends of cluster apps, with the spec part they were made from. */
  private readonly backends = new Map<string, { key: string; backend: RevisionBackend | null }>();
  private readonly pendingStops = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private tick: NodeJS.Timeout | null = null;
  private measureTimer: NodeJS.Timeout | null = null;
  private isMeasuring = false;
  private isShuttingDown = false;
  private readonly hooks: HookRunner;
  /** The proxy's counts over time: input of builtin analysis, the deploy report and /metrics. */
  readonly history = new MeasurementHistory();
  readonly analyses: AnalysisRunner;
  private isAdopting = false;
  /** Why the state cannot be written now (disk full), and since when: every rollout holds meanwhile. */
  private storageFault: { reason: string; sinceMs: number } | null = null;

  constructor(private readonly options: ControllerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.log = options.log ?? (() => {});
    this.hooks = new HookRunner({
      store: options.store,
      dataDir: options.dataDir,
      emit: (app, rolloutId, kind, message) => this.emit(app, rolloutId, kind, message),
      onSettled: (app) => this.requestReconcile(app),
      log: (line) => this.log(line),
    });
    this.analyses = new AnalysisRunner({
      store: options.store,
      providers: {
        builtin: new BuiltinProvider(this.history, () => this.now()),
        prometheus: new PrometheusProvider(),
        command: new CommandProvider(),
        http: new HttpProvider(),
      },
      emit: (app, rolloutId, kind, message) => this.emit(app, rolloutId, kind, message),
      onSettled: (app) => this.requestReconcile(app),
      log: (line) => this.log(line),
    });
  }

  /** Gathers the proxy's counts; a slow or missing answer only makes a coarser sample. */
  private async measureProxy(): Promise<void> {
    if (this.isMeasuring || !this.options.router.measurements) return;
    this.isMeasuring = true;
    try {
      const sources = await this.options.router.measurements();
      const delta = this.history.record(this.now(), sources);
      // Kept for deploy reports: a restarted controller counts on from the cursors stored here.
      if (this.storageFault === null) this.options.store.addTraffic(Date.now(), delta);
    } catch (error) {
      if (isStorageError(error)) this.holdForStorage((error as Error).message);
      else this.log(`gathering proxy counts failed: ${(error as Error).message}`);
    } finally {
      this.isMeasuring = false;
    }
  }

  /** Adopts what an earlier controller left running, then reconciles every known app. */
  async start(): Promise<void> {
    this.hooks.killOrphans();
    // No reconcile may run on half the instances: a stop begun while adopting asks for one.
    this.isAdopting = true;
    try {
      await this.adoptLeftovers();
    } finally {
      this.isAdopting = false;
    }
    this.pruneHistory();
    this.history.restore(this.options.store.listMeasurementCursors());
    for (const { name } of this.options.store.listApps()) this.requestReconcile(name);
    void this.measureProxy();
    this.measureTimer = setInterval(() => void this.measureProxy(), MEASURE_EVERY_MS);
    let ticks = 0;
    this.tick = setInterval(() => {
      this.checkStorage();
      for (const app of this.apps.keys()) this.requestReconcile(app);
      ticks += 1;
      if (ticks % COMMANDS_EVERY_TICKS === 0) for (const app of this.apps.keys()) this.guard(() => this.serveCommands(app));
      if (ticks % PRUNE_EVERY_TICKS === 0) this.pruneHistory();
    }, TICK_MS);
  }

  /**
   * Creates revisions for changed apps and starts their rollouts, each with its spec's strategy
   * or `options.strategy` (that strategy's settings from the spec, which holds defaults for all).
   */
  deploy(specs: readonly AppSpec[], options: { strategy?: StrategyName; skipHooks?: readonly HookPoint[] } = {}): DeployResult[] {
    this.refuseWhileStopping();
    const { store } = this.options;
    const plans = specs.map((spec) => {
      const hash = this.options.specHash(spec);
      const stable = store.stableRevision(spec.name);
      const stableRecord = stable === null ? null : store.getRevision(spec.name, stable);
      const active = store.activeRollout(spec.name);
      if (!active && stableRecord?.specHash === hash) return { spec, hash, isUnchanged: true as const, stable };
      if (active) {
        throw rolloutAlreadyActive(active);
      }
      return { spec, hash, isUnchanged: false as const, stable };
    });
    return plans.map((plan) => {
      if (plan.isUnchanged) return { app: plan.spec.name, revision: plan.stable!, rolloutId: null, isUnchanged: true };
      const latest = store.latestRevision(plan.spec.name);
      const revision = latest?.specHash === plan.hash ? latest : store.addRevision(plan.spec.name, plan.spec, plan.hash);
      const strategySpec = withDefaults(plan.spec.strategy);
      const strategy = options.strategy ?? strategySpec.use!;
      const skippedHooks = HOOK_POINTS.filter((point) => options.skipHooks?.includes(point));
      const rollout = store.createRollout({
        app: plan.spec.name,
        strategy,
        strategySpec,
        trigger: 'deploy',
        fromRevision: plan.stable,
        toRevision: revision.number,
        hooks: plan.spec.hooks ?? null,
        skippedHooks,
        analysis: plan.spec.analysis ?? null,
      });
      this.emit(
        plan.spec.name,
        rollout.id,
        'rollout-started',
        `rollout ${rollout.id}: revision ${plan.stable ?? '-'} → ${revision.number} (${strategy}, ${plan.spec.replicas} replicas)`,
      );
      if (skippedHooks.length) this.emit(plan.spec.name, rollout.id, 'hooks-skipped', `hooks skipped by --skip-hooks: ${skippedHooks.join(', ')}`);
      this.requestReconcile(plan.spec.name);
      return { app: plan.spec.name, revision: revision.number, rolloutId: rollout.id, isUnchanged: false };
    });
  }

  /**
   * Rolls back: an active rollout turns around to its old revision; otherwise a new rollout
   * goes to `toRevision`, or to the revision that was stable before the current one.
   */
  rollback(app: string, toRevision?: number): RolloutRecord {
    this.refuseWhileStopping();
    this.refuseIfDrivenElsewhere(app, 'roll back');
    const { store } = this.options;
    const active = store.activeRollout(app);
    if (active && toRevision === undefined) {
      if (active.fromRevision === null) return this.failRollout(active, 'rollback requested by user; there is no earlier revision to return to');
      if (active.direction === 'back') return active;
      return this.turnBack(active, 'rollback requested by user');
    }
    if (active)
      throw new CutoverError('ROLLOUT_ALREADY_ACTIVE', `app "${app}" has rollout ${active.id} ${active.phase}; --to needs it finished first`, {
        hint: `Run cutover rollback ${app} without --to to turn it around.`,
      });
    const stable = store.stableRevision(app);
    if (stable === null)
      throw new CutoverError('APP_NOT_FOUND', `app "${app}" has no stable revision to roll back from`, { hint: 'Check the name with: cutover status' });
    const target = toRevision ?? this.previousStable(app, stable);
    if (target === null)
      throw new CutoverError('NO_EARLIER_REVISION', `app "${app}" has no earlier revision than ${stable}`, {
        hint: 'Name one with --to REVISION (see cutover history).',
      });
    if (!store.getRevision(app, target))
      throw new CutoverError('REVISION_NOT_FOUND', `app "${app}" has no revision ${target}`, { hint: `See the revisions with: cutover history ${app}` });
    if (target === stable) throw new CutoverError('REVISION_ALREADY_STABLE', `revision ${target} of "${app}" is already the stable one`);
    const { strategy, strategySpec } = this.rollbackStrategy(app, target);
    const rollout = store.createRollout({ app, strategy, strategySpec, trigger: 'rollback', fromRevision: stable, toRevision: target });
    const isWarm = this.liveInstances(app).some((i) => i.record.revision === target && i.record.state === 'ready');
    this.emit(
      app,
      rollout.id,
      'rollout-started',
      `rollout ${rollout.id}: rolling back, revision ${stable} → ${target} (${strategy}${isWarm ? ', to warm instances' : ''})`,
    );
    this.requestReconcile(app);
    return rollout;
  }

  /**
   * A rollback is as quick as it can be safely: a rolling app rolls; a blue-green or canary app
   * starts the old revision at full size beside the current one and switches at once, without
   * preview or steps. Inside blue-green's scale-down window the old instances are still up and
   * ready, so that is a routing change only.
   */
  private rollbackStrategy(app: string, target: number): { strategy: StrategyName; strategySpec: StrategySpec } {
    const last = this.options.store.listRollouts(app, 1)[0];
    const spec = this.options.store.getRevision(app, target)!.spec;
    const strategySpec = last ? strategyOf(last, spec) : withDefaults(spec.strategy);
    if (!last || last.strategy === 'rolling') return { strategy: 'rolling', strategySpec };
    return { strategy: 'blue-green', strategySpec: { ...strategySpec, blueGreen: { ...strategySpec.blueGreen!, autoPromoteMs: 0, previewReplicas: null } } };
  }

  /** `cutover promote`: the current step (or gate) counts as done; `full` skips every step left. */
  async promote(app: string, options: { full?: boolean } = {}): Promise<RolloutRecord> {
    const rollout = this.activeForward(app, 'promote');
    if (rollout.strategy === 'rolling' || rollout.fromRevision === null) {
      throw new CutoverError(
        'NOTHING_TO_PROMOTE',
        `rollout ${rollout.id} of "${app}" is ${rollout.fromRevision === null ? 'a first deploy' : 'rolling'}: it has no gate or step to promote`,
        {
          hint: 'It completes by itself; follow it with: cutover status',
        },
      );
    }
    const strategy = strategyOf(rollout, this.options.store.getRevision(app, rollout.toRevision)!.spec);
    const stepIndex =
      rollout.strategy === 'canary'
        ? promoteCanary(rollout.stepIndex, strategy.canary!.steps.length, options.full ?? false)
        : promoteBlueGreen(rollout.stepIndex);
    // A person's promote overrules an inconclusive analysis: it is set aside, not run again here.
    this.analyses.supersedeInconclusive(rollout.id);
    this.options.store.updateRollout(rollout.id, { phase: 'progressing', stepIndex, stepStartedAt: Date.now(), pausedAt: null, gate: null });
    this.emit(
      app,
      rollout.id,
      'rollout-promote',
      `promote${options.full ? ' --full' : ''} requested${rollout.pausedAt !== null ? ' (and the pause lifted)' : ''}`,
    );
    await this.settle(app);
    return this.options.store.getRollout(rollout.id)!;
  }

  /** `cutover pause`: nothing advances until resume or promote; instances already starting finish. */
  pause(app: string): RolloutRecord {
    const rollout = this.activeForward(app, 'pause');
    if (rollout.pausedAt !== null) return rollout;
    const updated = this.options.store.updateRollout(rollout.id, { phase: 'paused', pausedAt: Date.now() });
    this.emit(app, rollout.id, 'rollout-paused', `rollout ${rollout.id} paused by a person; run cutover resume ${app} to go on`);
    return updated;
  }

  /** `cutover resume`: lifts a person's pause; the time paused does not count against pauses or deadlines. */
  resume(app: string): RolloutRecord {
    const rollout = this.activeForward(app, 'resume');
    if (rollout.pausedAt === null) {
      throw new CutoverError(
        'NOT_PAUSED',
        `rollout ${rollout.id} of "${app}" is not paused by a person${rollout.gate ? `; it waits at a gate: ${rollout.gate}` : ''}`,
        {
          hint: rollout.gate ? `Run cutover promote ${app} to pass the gate.` : 'Nothing to resume.',
        },
      );
    }
    const pausedFor = Math.max(0, Date.now() - rollout.pausedAt);
    // An inconclusive analysis paused it: its points run again.
    const rerun = this.analyses.supersedeInconclusive(rollout.id);
    if (rerun > 0)
      this.emit(
        app,
        rollout.id,
        'analysis-rerun',
        `${rerun} inconclusive analysis run${rerun === 1 ? '' : 's'} set aside: ${rerun === 1 ? 'it runs' : 'they run'} again`,
      );
    const updated = this.options.store.updateRollout(rollout.id, {
      phase: rollout.gate ? 'paused' : 'progressing',
      pausedAt: null,
      stepStartedAt: rollout.stepStartedAt + pausedFor,
    });
    this.emit(app, rollout.id, 'rollout-resumed', `rollout ${rollout.id} resumed after ${formatMs(pausedFor)}`);
    this.requestReconcile(app);
    return updated;
  }

  /**
   * `cutover abort`: all traffic back to the stable revision at once; resolves once the proxy
   * serves that plan. The new instances stay up, out of traffic, for the abort delay.
   */
  async abort(app: string): Promise<RolloutRecord> {
    const state = this.appState(app);
    // No reconcile pass may push a plan between ours and the record of the abort.
    state.holds += 1;
    let rollout: RolloutRecord;
    try {
      while (state.running) await state.running;
      rollout = this.activeForward(app, 'abort');
      const strategy = strategyOf(rollout, this.options.store.getRevision(app, rollout.toRevision)!.spec);
      const delayMs =
        rollout.strategy === 'blue-green'
          ? strategy.blueGreen!.abortScaleDownDelayMs
          : rollout.strategy === 'canary'
            ? strategy.canary!.abortScaleDownDelayMs
            : 0;
      const keepsWarm = delayMs > 0 && rollout.fromRevision !== null;
      // Traffic first, then the record: whoever reads an aborted rollout sees its revision out of
      // traffic. A crash in between leaves the rollout active, and the abort is simply not done.
      if (keepsWarm) await this.pushStableOnly(app, state, rollout.fromRevision!);
      this.options.store.updateRollout(rollout.id, {
        phase: 'aborted',
        reason: 'aborted by a person',
        step: `aborted; revision ${rollout.fromRevision ?? '-'} serves`,
        warmRevision: keepsWarm ? rollout.toRevision : null,
        warmUntil: keepsWarm ? Date.now() + delayMs : null,
      });
      state.rolloutFailures.delete(rollout.id);
      const kept = keepsWarm ? `; revision ${rollout.toRevision} stays up out of traffic for ${formatMs(delayMs)}` : '';
      this.emit(
        app,
        rollout.id,
        'rollout-aborted',
        `rollout ${rollout.id} aborted by a person: revision ${rollout.fromRevision ?? '-'} takes all traffic${kept}`,
      );
    } finally {
      state.holds -= 1;
    }
    await this.settle(app);
    const { lastPlanError } = state;
    if (lastPlanError) {
      throw new CutoverError('TRAFFIC_PENDING', `rollout ${rollout.id} is aborted, but the proxy has not applied the plan yet: ${lastPlanError}`, {
        hint: 'cutover retries by itself; check with: cutover status',
      });
    }
    return this.options.store.getRollout(rollout.id)!;
  }

  /** A cluster app's instances are its pods as last observed (pid null, the container port; a failed pod with its reason); not yet created ones are left out. */
  private withClusterPods(report: StatusReport): StatusReport {
    return {
      ...report,
      apps: report.apps.map((app) => {
        const pods = this.apps.get(app.name)?.clusterPods;
        if (!pods) return app;
        return {
          ...app,
          instances: pods
            .filter((p) => !isPendingPod(p.id))
            .map((p) => ({
              id: p.id,
              revision: p.revision,
              pid: null,
              port: p.port,
              ...(p.failure === null ? { state: p.state } : { state: 'failed', reason: p.failure }),
            })),
        };
      }),
    };
  }

  /** A cluster app another cutover drives says which: what this one shows is the state that one writes to the cluster. */
  private withLeaseHolders(report: StatusReport): StatusReport {
    return {
      ...report,
      apps: report.apps.map((app) => {
        const holder = this.apps.get(app.name)?.leaseHolder;
        return holder ? { ...app, drivenBy: holder } : app;
      }),
    };
  }

  /** The plan the steady state will want after an abort: the stable revision's ready instances, equal shares. */
  private async pushStableOnly(app: string, state: AppRuntimeState, stable: number): Promise<void> {
    const serving = this.liveInstances(app).filter((i) => i.record.revision === stable && i.record.state === 'ready');
    if (serving.length === 0) return; // Nothing to move traffic to yet; the reconcile after the record does it.
    const error = await this.pushTraffic(app, state, this.options.store.getRevision(app, stable)!.spec, EQUAL_SHARES, serving.map(servingOf));
    if (error)
      throw new CutoverError('TRAFFIC_PENDING', `the proxy could not move the traffic back to revision ${stable}: ${error}`, {
        hint: 'The rollout is not aborted; try again.',
      });
  }

  private activeForward(app: string, verb: string): RolloutRecord {
    this.refuseIfDrivenElsewhere(app, verb);
    const rollout = this.options.store.activeRollout(app);
    if (!rollout) {
      throw new CutoverError('NO_ACTIVE_ROLLOUT', `app "${app}" has no rollout in progress to ${verb}`, {
        hint: `See where it stands with: cutover status ${app}`,
      });
    }
    if (rollout.direction === 'back') {
      throw new CutoverError('ROLLOUT_GOING_BACK', `rollout ${rollout.id} of "${app}" is already rolling back to revision ${rollout.fromRevision}`, {
        hint: `Follow it with: cutover status ${app}`,
      });
    }
    return rollout;
  }

  /** Runs reconcile passes until none is pending: what was just decided is applied when it resolves. */
  private async settle(app: string): Promise<void> {
    const state = this.appState(app);
    this.requestReconcile(app);
    while (state.running) await state.running;
  }

  private refuseWhileStopping(): void {
    if (this.isShuttingDown) throw new CutoverError('DAEMON_STOPPING', 'the daemon is stopping', { hint: 'Start it again with cutover up, then retry.' });
  }

  /** Per-revision requests per second, errors and p99 over the last seconds, from the proxy's counts. */
  liveMetrics(appName?: string): LiveMetrics {
    return liveMetrics(this.history, this.options.store, this.now(), appName);
  }

  status(appName?: string): StatusReport {
    const report = this.withLeaseHolders(this.withClusterPods(buildStatus(this.options.store, appName)));
    const fault = this.storageFault;
    if (!fault) return report;
    // What is stored says progressing; what happens is a hold until the disk takes writes again.
    const reason = `held: ${fault.reason}; traffic stays as it is, and the rollout goes on once the state can be written`;
    return {
      ...report,
      storageFault: fault.reason,
      apps: report.apps.map((app) =>
        app.rollout && !isTerminalPhase(app.rollout.phase)
          ? { ...app, rollout: { ...app.rollout, phase: 'paused', reason, step: `${app.rollout.step} (${reason})` } }
          : app,
      ),
    };
  }

  /**
   * The disk is full (or failing): hold every rollout where it is. No instance starts or stops
   * and no plan changes until a write goes through again (`checkStorage`, every tick).
   */
  private holdForStorage(reason: string): void {
    if (this.storageFault) return;
    this.storageFault = { reason, sinceMs: this.now() };
    this.log(`holding every rollout: ${reason}`);
    for (const { name } of this.options.store.listApps()) {
      const active = this.options.store.activeRollout(name);
      // Recorded if the disk still takes this much; the status says it either way.
      if (active) this.tryEmit(name, active.id, 'rollout-storage-paused', `rollout ${active.id} holds: ${reason}`);
    }
  }

  /** Notices a disk about to be full before a write fails, and lifts a hold once writes succeed again. */
  private checkStorage(): void {
    const low = lowSpaceReason(this.options.dataDir);
    if (low) {
      this.holdForStorage(low);
      return;
    }
    const fault = this.storageFault;
    if (!fault) return;
    try {
      // What the loop and the health checks changed in memory meanwhile goes down first.
      for (const instance of this.instances.values()) this.options.store.upsertInstance(instance.record);
      for (const { name } of this.options.store.listApps()) {
        const active = this.options.store.activeRollout(name);
        if (active)
          this.emit(
            name,
            active.id,
            'rollout-storage-resumed',
            `rollout ${active.id} goes on: the state can be written again (held ${formatMs(this.now() - fault.sinceMs)}: ${fault.reason})`,
          );
      }
    } catch (error) {
      if (!isStorageError(error)) throw error;
      return;
    }
    this.storageFault = null;
    this.log('the state can be written again: rollouts go on');
    for (const app of this.apps.keys()) this.requestReconcile(app);
  }

  /** Runs a background step (a health check, an exit): a storage failure holds the rollouts instead of crashing. */
  private guard(action: () => void | Promise<void>): void {
    void (async () => {
      try {
        await action();
      } catch (error) {
        if (isStorageError(error)) this.holdForStorage((error as Error).message);
        else this.log(`internal error: ${(error as Error).stack ?? String(error)}`);
      }
    })();
  }

  private tryEmit(app: string, rolloutId: number | null, kind: EventKind, message: string): void {
    try {
      this.emit(app, rolloutId, kind, message);
    } catch (error) {
      if (!isStorageError(error)) throw error;
    }
  }

  /** Stops every instance gracefully (out of traffic, drained, SIGTERM), then the loop. */
  async shutdown(): Promise<void> {
    this.isShuttingDown = true;
    if (this.tick) clearInterval(this.tick);
    if (this.measureTimer) clearInterval(this.measureTimer);
    this.analyses.stop();
    for (const state of this.apps.values()) if (state.wakeTimer) clearTimeout(state.wakeTimer);
    await Promise.all([...this.apps.values()].map((state) => state.running));
    await this.hooks.stop();
    for (const { name } of this.options.store.listApps()) {
      const active = this.options.store.activeRollout(name);
      // A cluster app's rollout stays where it is, on the cluster: another cutover (or this one, started again) drives it on.
      if (!active || this.backendOf(name)?.state) continue;
      const aborted = this.options.store.updateRollout(active.id, { phase: 'aborted', reason: 'the daemon was stopped during the rollout' });
      this.hooks.skipFinal(aborted, 'the daemon was stopped during the rollout');
      this.emit(
        name,
        active.id,
        'rollout-aborted',
        `rollout ${active.id} aborted: the daemon was stopped during it; revision ${active.fromRevision ?? '-'} stays stable`,
      );
    }
    await Promise.all(
      [...this.apps.keys()].map((app) =>
        this.routerOf(app)
          .removeApp(app)
          .catch(() => {}),
      ),
    );
    const stops = [...this.instances.values()]
      .filter((i) => i.record.state !== 'stopped' && i.record.state !== 'failed')
      .map((i) => this.stopInstance(i, 'the daemon is going down'));
    await Promise.all([...stops, ...this.pendingStops]);
    await this.options.router.close?.().catch((error: unknown) => this.log(`closing the router failed: ${(error as Error).message}`));
    // Another cutover may drive the cluster apps now (their pods keep running), from the state written here.
    await Promise.all(
      [...this.apps.entries()].map(([app, state]) =>
        this.writeClusterState(app, state).catch((error: unknown) =>
          this.log(`writing the state of ${app} to the cluster failed: ${(error as Error).message}`),
        ),
      ),
    );
    await Promise.all(
      [...this.backends.values()].map(({ backend }) =>
        backend?.lease?.release().catch((error: unknown) => this.log(`releasing ${backend.lease!.name} failed: ${(error as Error).message}`)),
      ),
    );
    this.options.runtime.close();
  }

  // ---- reconcile -------------------------------------------------------------------------

  requestReconcile(app: string): void {
    if (this.isShuttingDown) return;
    const state = this.appState(app);
    state.isDirty = true;
    if (state.running || this.isAdopting) return;
    // Mark the loop as running before it starts: a reconcile may request another one synchronously.
    let finished: () => void = () => {};
    state.running = new Promise((resolve) => (finished = resolve));
    void (async () => {
      while (state.isDirty && state.holds === 0 && !this.isShuttingDown) {
        state.isDirty = false;
        try {
          if (this.storageFault === null) {
            await this.reconcile(app, state);
            await this.writeClusterState(app, state);
          }
          if (state.clusterOutage !== null) this.log(`reconcile of ${app}: the cluster answers again`);
          state.clusterOutage = null;
        } catch (error) {
          const rollout = error instanceof KubernetesApiError && error.isInvalid ? this.options.store.activeRollout(app) : null;
          if (isStorageError(error)) this.holdForStorage((error as Error).message);
          else if (rollout?.direction === 'forward' && !state.rolloutFailures.has(rollout.id)) {
            // The cluster refused an object the rollout needs (400, 422): sending it again cannot help, so the rollout turns back (or fails) now.
            state.rolloutFailures.set(rollout.id, `the cluster refused an object of the rollout: ${(error as Error).message}`);
            state.isDirty = true;
          } else if (error instanceof CutoverError && (error.code === 'KUBERNETES_API_ERROR' || error.code === 'CLUSTER_STATE_UNREADABLE')) {
            // The cluster did not answer: said once per distinct failure, tried again every tick.
            if (state.clusterOutage !== error.message) this.log(`reconcile of ${app} waits for the cluster: ${error.message}`);
            state.clusterOutage = error.message;
            await sleep(TICK_MS);
          } else {
            this.log(`reconcile of ${app} failed: ${(error as Error).stack ?? String(error)}`);
            await sleep(TICK_MS);
          }
        }
      }
      state.running = null;
      finished();
    })();
  }

  private async reconcile(app: string, state: AppRuntimeState): Promise<void> {
    const { store } = this.options;
    // A cluster app is driven by one cutover at a time: without its Lease, nothing here decides anything.
    const backend = this.backendOf(app);
    if (backend?.lease && !(await this.holdLease(app, state, backend))) return;
    let rollout = store.activeRollout(app);
    this.hooks.cancelStale(app);
    this.analyses.cancelStale(app);
    for (const ended of store.listRollouts(app, 3)) {
      this.hooks.advanceFinal(ended, (point) => this.hookEnv(ended, point));
      this.writeReport(ended);
    }

    if (rollout && rollout.direction === 'forward') {
      // The deadline of a forward rollout is checked below, once the planner says whether it waits on purpose.
      const hookFailure = failedHook(store.listHookRuns({ rolloutId: rollout.id }));
      const failure = state.rolloutFailures.get(rollout.id) ?? hookFailure?.reason;
      if (failure) {
        // A failed preDeploy started nothing: the deploy ends there, and the stable revision stays.
        const isBeforeStart = hookFailure?.point === 'preDeploy' && !state.rolloutFailures.has(rollout.id);
        rollout =
          rollout.fromRevision === null || isBeforeStart
            ? this.failRollout(rollout, isBeforeStart ? `${failure}; nothing was started` : failure)
            : this.turnBack(rollout, failure);
      }
    }
    if (rollout && rollout.direction === 'forward' && !isTerminalPhase(rollout.phase)) {
      // Failed analysis: roll back by itself. Inconclusive: pause, and say why.
      const { failed, inconclusive } = this.analyses.outcome(rollout.id);
      if (failed) {
        const reason = `analysis ${failed.template} failed: ${failed.reason ?? ''}`;
        rollout = rollout.fromRevision === null ? this.failRollout(rollout, reason) : this.turnBack(rollout, reason);
      } else if (inconclusive && rollout.pausedAt === null) {
        const reason = `analysis ${inconclusive.template} was inconclusive: ${inconclusive.reason ?? ''}`;
        rollout = store.updateRollout(rollout.id, { phase: 'paused', pausedAt: Date.now(), reason });
        this.emit(
          app,
          rollout.id,
          'rollout-paused',
          `rollout ${rollout.id} paused: ${reason}; run cutover resume ${app} to measure again, cutover promote ${app} to go on, or cutover rollback ${app}`,
        );
      }
    }
    if (rollout && rollout.direction !== 'forward') {
      // Going back can fail too (the old revision no longer starts): end it rather than hang.
      const failure = this.deadlineFailure(rollout, rollout.step);
      if (failure) rollout = this.failRollout(rollout, `could not roll back to revision ${rollout.fromRevision}: ${failure}; first: ${rollout.reason ?? ''}`);
    }
    if (rollout && isTerminalPhase(rollout.phase)) rollout = null;

    const nowMs = this.now();
    // A cluster app's instances are its pods; a local app's are the processes this controller runs.
    const cluster = backend ? await this.observeCluster(backend, nowMs) : null;
    if (cluster) this.judgePodFailures(app, cluster.pods);
    state.clusterPods = cluster?.pods ?? null;
    const live = cluster ? [] : this.liveInstances(app);
    const observed: ObservedInstance[] =
      cluster?.pods ?? live.map((i) => ({ id: i.record.id, revision: i.record.revision, state: i.record.state, readyAtMs: i.readyAtMs }));
    const warm = rollout ? null : this.warmRevision(app);
    const choice = choosePlan({
      app,
      rollout,
      stableRevision: store.stableRevision(app),
      warmRevision: warm,
      specOf: (revision) => store.getRevision(app, revision)!.spec,
      instances: observed,
      stepStartedAtMs: rollout ? this.monotonicFrom(rollout.stepStartedAt) : nowMs,
      nowMs,
      hooks: rollout?.direction === 'forward' ? this.withAnalysis(rollout, hookProgress(rollout, store.listHookRuns({ rolloutId: rollout.id }))) : undefined,
      isStepAnalysisPassed:
        rollout?.direction === 'forward'
          ? this.analyses.verdict(rollout.id, `step@${rollout.stepIndex}`, this.stepTemplates(rollout)).kind === 'passed'
          : false,
      batchAnalysis: rollout?.direction === 'forward' ? this.batchAnalysis(rollout) : null,
    });
    const { target } = choice;
    // A hook interrupted by a crash holds the rollout at a gate until a person decides.
    const interruption = rollout && choice.plan.hookPoint ? this.hooks.interruption(rollout, choice.plan.hookPoint) : null;
    const plan = interruption ? { ...choice.plan, gate: interruption, step: `paused: ${choice.plan.step}` } : choice.plan;
    if (target === null) {
      // Nothing should run (a first deploy failed or was aborted, or waits for preDeploy): take everything out and stop it.
      if (await this.pushTraffic(app, state, null, EQUAL_SHARES, [])) return;
      if (backend && cluster)
        await this.applyReplicaCounts(
          app,
          backend,
          cluster,
          [],
          cluster.pods.map((p) => p.id),
        );
      for (const instance of live) this.beginStop(instance, 'no revision of the app should run');
      if (rollout && plan.hookPoint) {
        this.hooks.advance(rollout, plan.hookPoint, (point) => this.hookEnv(rollout, point));
        if (rollout.step !== plan.step && rollout.pausedAt === null) store.updateRollout(rollout.id, { step: plan.step });
      }
      return;
    }
    const spec = store.getRevision(app, target)!.spec;

    if (rollout?.direction === 'forward' && rollout.phase !== 'paused' && !plan.isWaiting) {
      const failure = this.deadlineFailure(rollout, plan.step);
      if (failure) {
        if (rollout.fromRevision === null) this.failRollout(rollout, failure);
        else this.turnBack(rollout, failure);
        return;
      }
    }

    // Rule 2: an instance leaves the traffic plan before it is stopped; no plan, no stop.
    const serving: ServingInstance[] = cluster
      ? cluster.pods
          .filter((p) => p.state === 'ready' && p.host !== null && !plan.stopIds.includes(p.id) && p.revision !== warm)
          .map((p) => ({ id: p.id, revision: p.revision, host: p.host!, port: p.port }))
      : live.filter((i) => i.record.state === 'ready' && !plan.stopIds.includes(i.record.id) && i.record.revision !== warm).map(servingOf);
    const planError = await this.pushTraffic(app, state, spec, plan.traffic, serving);
    if (planError) {
      if (rollout?.direction === 'forward' && !state.rolloutFailures.has(rollout.id)) {
        state.rolloutFailures.set(rollout.id, `the proxy could not apply the traffic plan: ${planError}`);
        this.requestReconcile(app);
      }
      return;
    }
    if (!cluster) for (const id of plan.stopIds) this.beginStop(this.instances.get(id)!, `not needed by revision ${target}`);
    // Hooks run beside the loop, against the traffic plan just confirmed; their end wakes it.
    if (rollout?.direction === 'forward' && plan.hookPoint) {
      const active = rollout;
      this.hooks.advance(active, plan.hookPoint, (point) => this.hookEnv(active, point));
    }
    if (rollout?.direction === 'forward') this.advanceAnalyses(rollout, plan);

    if (backend && cluster) await this.applyReplicaCounts(app, backend, cluster, plan.starts, plan.stopIds);
    for (const { revision, count } of cluster ? [] : plan.starts) {
      if (live.some((i) => i.record.revision === revision && i.readyAtMs !== null && nowMs - i.readyAtMs >= STABLE_UPTIME_MS))
        state.restartBackoff.reset(revision);
      if (!state.restartBackoff.canStart(revision, nowMs)) continue;
      const revisionSpec = store.getRevision(app, revision)!.spec;
      const startedBy = rollout?.direction === 'forward' && revision === rollout.toRevision ? rollout.id : null;
      for (let n = 0; n < count; n++) await this.startInstance(revisionSpec, revision, startedBy);
    }

    // The record may have changed during the awaits above (a person's abort or rollback): act on the current one.
    const current = rollout && store.getRollout(rollout.id);
    if (!current || isTerminalPhase(current.phase) || current.direction !== rollout!.direction || current.stepIndex !== rollout!.stepIndex) return;
    if (plan.stepIndex !== current.stepIndex) {
      store.updateRollout(current.id, {
        stepIndex: plan.stepIndex,
        stepStartedAt: Date.now(),
        gate: null,
        phase: current.pausedAt === null ? 'progressing' : 'paused',
        step: plan.step,
      });
      this.emit(app, current.id, 'rollout-step', plan.step);
      this.requestReconcile(app);
      return;
    }
    // Done means the old instances are gone too, not merely out of traffic (blue kept warm aside).
    const isDraining = cluster
      ? cluster.terminating > 0
      : [...this.instances.values()].some((i) => i.record.app === app && i.isStopping && i.record.state === 'draining');
    if (plan.isComplete && !isDraining) {
      this.completeRollout(current);
      this.requestReconcile(app);
      return;
    }
    const phase = current.pausedAt !== null || plan.gate !== null ? 'paused' : 'progressing';
    if (current.step !== plan.step || current.gate !== plan.gate || current.phase !== phase) {
      store.updateRollout(current.id, { step: plan.step, gate: plan.gate, phase });
      if (plan.gate !== null && current.gate !== plan.gate) this.emit(app, current.id, 'rollout-gate', `waiting: ${plan.gate}`);
      else if (current.step !== plan.step) this.emit(app, current.id, 'rollout-step', plan.step);
    }
  }

  // ---- analysis --------------------------------------------------------------------------

  /** The analyses that stand where hooks do: blue-green before and after the switch, rolling at the end (and after each batch, see `batchAnalysis`). */
  private analysisUses(rollout: RolloutRecord): { pre: string[] | null; post: string[] | null; postKey: string } {
    if (rollout.fromRevision === null || !rollout.analysis) return { pre: null, post: null, postKey: '' };
    const strategy = strategyOf(rollout, this.options.store.getRevision(rollout.app, rollout.toRevision)!.spec);
    if (rollout.strategy === 'blue-green') {
      return {
        pre: strategy.blueGreen?.prePromotionAnalysis?.templates ?? null,
        post: strategy.blueGreen?.postPromotionAnalysis?.templates ?? null,
        postKey: 'postPromotion',
      };
    }
    if (rollout.strategy === 'rolling') return { pre: null, post: strategy.rolling.analysis?.templates ?? null, postKey: 'rolling' };
    return { pre: null, post: null, postKey: '' };
  }

  /** Hooks and analyses hold the same points: traffic waits for both, and so does the end. */
  private withAnalysis(rollout: RolloutRecord, hooks: HookProgress): HookProgress {
    const { pre, post, postKey } = this.analysisUses(rollout);
    const isPassed = (key: string, templates: string[] | null): boolean =>
      templates === null || this.analyses.verdict(rollout.id, key, templates).kind === 'passed';
    return {
      ...hooks,
      isTrafficAllowed: hooks.isTrafficAllowed && isPassed('prePromotion', pre),
      isStepChecked: hooks.isStepChecked && isPassed(postKey, post),
    };
  }

  /** The templates of the canary step the rollout is at, when it is an `analysis` step. */
  private stepTemplates(rollout: RolloutRecord): string[] {
    if (rollout.strategy !== 'canary' || rollout.fromRevision === null) return [];
    const steps = strategyOf(rollout, this.options.store.getRevision(rollout.app, rollout.toRevision)!.spec).canary?.steps ?? [];
    const step = steps[rollout.stepIndex];
    return step && 'analysis' in step ? step.analysis.templates : [];
  }

  /**
   * A rolling rollout with `analysis`: how many new instances its passed batch analyses vouch
   * for (the largest `batch@N` that passed), so the next batch may start. Null: no batches.
   */
  private batchAnalysis(rollout: RolloutRecord): { passedCount: number } | null {
    const templates = this.analysisUses(rollout).post;
    if (rollout.strategy !== 'rolling' || templates === null) return null;
    let passedCount = 0;
    for (const run of this.options.store.listAnalysisRuns({ rolloutId: rollout.id })) {
      const batch = batchOfPoint(run.pointKey);
      if (batch !== null && batch > passedCount && this.analyses.verdict(rollout.id, run.pointKey, templates).kind === 'passed') passedCount = batch;
    }
    return { passedCount };
  }

  /** Starts the analyses due where the plan stands; they run beside the loop and their end wakes it. */
  private advanceAnalyses(rollout: RolloutRecord, plan: StrategyPlan): void {
    if (rollout.fromRevision === null) return;
    const target = { revision: rollout.toRevision, stableRevision: rollout.fromRevision };
    if (plan.analysisPoint) {
      const templates = batchOfPoint(plan.analysisPoint) === null ? this.stepTemplates(rollout) : (this.analysisUses(rollout).post ?? []);
      this.analyses.advance(rollout, plan.analysisPoint, templates, target);
    }
    const { pre, post, postKey } = this.analysisUses(rollout);
    if (pre && plan.hookPoint === 'preTraffic') this.analyses.advance(rollout, 'prePromotion', pre, target);
    if (post && plan.hookPoint === 'postTraffic') this.analyses.advance(rollout, postKey, post, target);
    if (rollout.strategy === 'canary') {
      const background = strategyOf(rollout, this.options.store.getRevision(rollout.app, rollout.toRevision)!.spec).canary?.analysis;
      if (background && rollout.stepIndex >= background.startingStep)
        this.analyses.advance(rollout, 'background', background.templates, target, { isOpenEnded: true });
    }
  }

  /** A point's verdict, for status. */
  analysisVerdict(rolloutId: number, pointKey: string, templates: readonly string[]): PointVerdict {
    return this.analyses.verdict(rolloutId, pointKey, templates);
  }

  /**
   * Stores the deploy report of a rollout that ended, once `REPORT_AFTER_MS` of traffic after
   * its end has been measured (the "after" phase).
   */
  private writeReport(rollout: RolloutRecord): void {
    if (!isTerminalPhase(rollout.phase) || rollout.report !== null || rollout.endedAt === null) return;
    const sinceEndMs = Date.now() - rollout.endedAt;
    // Rollouts that ended long before this controller measured anything get none.
    if (sinceEndMs > REPORT_MAX_AGE_MS) return;
    if (sinceEndMs < REPORT_AFTER_MS) {
      this.scheduleReconcile(rollout.app, REPORT_AFTER_MS - sinceEndMs);
      return;
    }
    const report = buildDeployReport({ rollout, store: this.options.store, nowMs: Date.now() });
    this.options.store.updateRollout(rollout.id, { report });
    this.emit(rollout.app, rollout.id, 'rollout-report', report.headline);
  }

  /** The revision a finished rollout left running out of traffic, while its time lasts. */
  private warmRevision(app: string): number | null {
    const last = this.options.store.listRollouts(app, 1)[0];
    if (!last || last.warmRevision === null || last.warmUntil === null) return null;
    if (Date.now() < last.warmUntil) {
      // Look again when the window closes, so the warm instances go on time.
      this.scheduleReconcile(app, last.warmUntil - Date.now());
      return last.warmRevision;
    }
    return null;
  }

  private scheduleReconcile(app: string, delayMs: number): void {
    const state = this.appState(app);
    if (state.wakeTimer) return;
    state.wakeTimer = setTimeout(
      () => {
        state.wakeTimer = null;
        this.requestReconcile(app);
      },
      Math.max(0, delayMs) + 5,
    );
    state.wakeTimer.unref();
  }

  private monotonicFrom(wallClockMs: number): number {
    return this.now() - (Date.now() - wallClockMs);
  }

  /**
   * The rollout's progress deadline, if passed: measured from the start of its current step
   * (a person's pause does not count), and from its start, doubled, when going back.
   */
  private deadlineFailure(rollout: RolloutRecord, step: string): string | null {
    const spec = this.options.store.getRevision(rollout.app, rollout.toRevision)!.spec;
    const deadline = progressDeadlineMs(strategyOf(rollout, spec), rollout.strategy) * (rollout.direction === 'back' ? 2 : 1);
    // Stored times are wall-clock; a deadline of minutes tolerates that, and restarts keep it.
    const elapsed = Date.now() - (rollout.direction === 'back' ? rollout.startedAt : rollout.stepStartedAt);
    return elapsed > deadline ? `progress deadline exceeded: not complete after ${formatMs(deadline)} (${step})` : null;
  }

  private turnBack(rollout: RolloutRecord, reason: string): RolloutRecord {
    const updated = this.options.store.updateRollout(rollout.id, { direction: 'back', reason, step: `rolling back to revision ${rollout.fromRevision}` });
    this.emit(rollout.app, rollout.id, 'rollout-rolling-back', `rolling back to revision ${rollout.fromRevision}: ${reason}`);
    this.requestReconcile(rollout.app);
    return updated;
  }

  private failRollout(rollout: RolloutRecord, reason: string): RolloutRecord {
    this.appState(rollout.app).rolloutFailures.delete(rollout.id);
    const updated = this.options.store.updateRollout(rollout.id, { phase: 'failed', reason, step: 'failed' });
    this.emit(rollout.app, rollout.id, 'rollout-failed', `rollout ${rollout.id} failed: ${reason}`);
    this.requestReconcile(rollout.app);
    return updated;
  }

  private completeRollout(rollout: RolloutRecord): void {
    const { store } = this.options;
    this.appState(rollout.app).rolloutFailures.delete(rollout.id);
    if (rollout.direction === 'back') {
      store.updateRollout(rollout.id, { phase: 'rolled-back', step: `revision ${rollout.fromRevision} serving` });
      this.emit(
        rollout.app,
        rollout.id,
        'rollout-rolled-back',
        `rollout ${rollout.id} rolled back: revision ${rollout.fromRevision} serves all traffic (${rollout.reason ?? ''})`,
      );
      return;
    }
    store.setStableRevision(rollout.app, rollout.toRevision);
    const phase = rollout.trigger === 'rollback' ? 'rolled-back' : 'promoted';
    // Blue-green keeps blue warm after the switch, so a rollback inside the window starts nothing.
    const delayMs =
      rollout.strategy === 'blue-green' && rollout.fromRevision !== null
        ? strategyOf(rollout, store.getRevision(rollout.app, rollout.toRevision)!.spec).blueGreen!.scaleDownDelayMs
        : 0;
    const warm = delayMs > 0 ? { warmRevision: rollout.fromRevision, warmUntil: Date.now() + delayMs } : {};
    store.updateRollout(rollout.id, { phase, step: `revision ${rollout.toRevision} serving`, ...warm });
    const kept = delayMs > 0 ? `; revision ${rollout.fromRevision} stays up out of traffic for ${formatMs(delayMs)}` : '';
    this.emit(
      rollout.app,
      rollout.id,
      phase === 'promoted' ? 'rollout-promoted' : 'rollout-rolled-back',
      `rollout ${rollout.id} ${phase}: revision ${rollout.toRevision} serves all traffic${kept}`,
    );
  }

  /**
   * A hook's environment: the daemon's, the new revision's `run.env`, the rollout in CUTOVER_*
   * variables, and PREVIEW_URL where the new revision answers: the blue-green preview listener
   * before the switch when there is one, otherwise a ready instance's own address.
   */
  private hookEnv(rollout: RolloutRecord, point: HookPoint): Record<string, string> {
    const spec = this.options.store.getRevision(rollout.app, rollout.toRevision)!.spec;
    const env: Record<string, string> = {
      ...filterEnv(process.env),
      ...spec.run.env,
      CUTOVER_APP: rollout.app,
      CUTOVER_REVISION: String(rollout.toRevision),
      CUTOVER_FROM_REVISION: rollout.fromRevision === null ? '' : String(rollout.fromRevision),
      CUTOVER_STRATEGY: rollout.strategy,
      CUTOVER_PHASE: point,
      CUTOVER_ROLLOUT_ID: String(rollout.id),
      CUTOVER_ROLLOUT_PHASE: rollout.phase,
      CUTOVER_REASON: rollout.reason ?? '',
    };
    if (point === 'preDeploy') return env;
    const listen = strategyOf(rollout, spec).blueGreen?.preview.listen;
    if (point === 'preTraffic' && rollout.strategy === 'blue-green' && rollout.fromRevision !== null && listen) {
      env['PREVIEW_URL'] = urlOf(listen);
      return env;
    }
    const instance = this.liveInstances(rollout.app).find((i) => i.record.revision === rollout.toRevision && i.record.state === 'ready');
    if (instance) env['PREVIEW_URL'] = urlOf({ host: instance.host, port: instance.record.port });
    return env;
  }

  private previousStable(app: string, stable: number): number | null {
    const promoted = this.options.store
      .listRollouts(app, 100)
      .filter((r) => (r.phase === 'promoted' || (r.phase === 'rolled-back' && r.direction === 'forward')) && r.toRevision !== stable);
    return promoted[0]?.toRevision ?? (stable > 1 ? stable - 1 : null);
  }

  // ---- traffic ---------------------------------------------------------------------------

  /** Pushes the plan when it changed; returns why it could not be applied, or null. A transient cluster failure (KubernetesApiError) is thrown. */
  private async pushTraffic(
    app: string,
    state: AppRuntimeState,
    spec: AppSpec | null,
    intent: TrafficIntent,
    serving: readonly ServingInstance[],
  ): Promise<string | null> {
    const plan = buildTrafficPlan(
      app,
      spec?.listen ?? this.lastListen(app),
      intent,
      serving,
      spec === null ? {} : { outlierDetection: outlierDetectionOf(spec), longLived: longLivedOf(spec) },
    );
    const key = JSON.stringify(plan);
    if (key === state.lastPlanKey) return null;
    if (plan.listen.port === 0) return null; // The app never had a revision to listen for.
    try {
      await this.routerOf(app).applyPlan(plan);
    } catch (error) {
      // The workers may or may not have applied it: push again next time, whatever it holds.
      state.lastPlanKey = '';
      // A cluster that did not answer (5xx, timeout, cut connection) fails no rollout: the reconcile loop waits for it.
      if (error instanceof KubernetesApiError && error.isTransient) throw error;
      const message = (error as Error).message;
      if (message !== state.lastPlanError)
        this.emit(app, this.currentRolloutId(app), 'traffic-failed', `the proxy could not apply the traffic plan: ${message}`);
      state.lastPlanError = message;
      return message;
    }
    state.lastPlanKey = key;
    state.lastPlanError = null;
    const shares = trafficShares(plan);
    this.options.store.setTraffic(app, shares);
    const split = shares.map((g) => `rev ${g.revision}: ${g.weight}% (${g.instances} instance${g.instances === 1 ? '' : 's'})`).join(', ') || 'none';
    const extras = [
      plan.routes?.length ? `${plan.routes.length} route${plan.routes.length === 1 ? '' : 's'}` : '',
      plan.previews?.length ? 'preview listener' : '',
      plan.sticky ? 'sticky' : '',
      plan.mirror ? `mirror ${plan.mirror.percent}%` : '',
    ]
      .filter(Boolean)
      .join(', ');
    this.emit(app, this.currentRolloutId(app), 'traffic', `traffic → ${split}${extras ? ` [${extras}]` : ''}`);
    return null;
  }

  private routerOf(app: string): TrafficRouter {
    return this.backendOf(app)?.router ?? this.options.router;
  }

  // ---- cluster apps ----------------------------------------------------------------------

  /** The revision backend of an app whose latest spec runs on a cluster, made once per context, namespace and router. */
  private backendOf(app: string, newSpec?: AppSpec): RevisionBackend | null {
    const spec = newSpec ?? this.options.store.latestRevision(app)?.spec;
    if (spec?.runtime?.kind !== 'kubernetes') return null;
    const key = JSON.stringify([spec.runtime.context, spec.runtime.namespace, spec.runtime.port, spec.router]);
    const known = this.backends.get(app);
    if (known?.key === key) return known.backend;
    const factory: RevisionBackendFactory =
      this.options.revisionBackend ?? ((appSpec, onNotice) => kubernetesBackend(appSpec, onNotice, { holder: leaseHolderFor(this.options.dataDir) }));
    const backend = factory(spec, (message) => this.log(message));
    this.backends.set(app, { key, backend });
    return backend;
  }

  /**
   * Takes or renews the app's Lease, recording where its rollout stands on it. On taking it, the
   * app's state comes from the cluster first (another machine may have driven it meanwhile). Held
   * by another cutover: this one drives nothing, shows the state that one writes, and a rollout
   * started here fails with who holds the app.
   */
  private async holdLease(app: string, state: AppRuntimeState, backend: RevisionBackend): Promise<boolean> {
    const { store } = this.options;
    const latest = store.activeRollout(app) ?? store.listRollouts(app, 1)[0] ?? null;
    const summary =
      latest &&
      JSON.stringify({
        rollout: latest.id,
        from: latest.fromRevision,
        to: latest.toRevision,
        strategy: latest.strategy,
        direction: latest.direction,
        phase: latest.phase,
        stepIndex: latest.stepIndex,
        step: latest.step,
      });
    const lease = await backend.lease!.hold(summary);
    if (lease.isHeld) {
      if (!state.clusterState.isTaken) {
        await this.takeClusterState(app, backend, 'takeover');
        state.clusterState = { ...state.clusterState, isTaken: true, lastWritten: null };
      }
      state.leaseHolder = null;
      return true;
    }
    state.clusterState.isTaken = false;
    if (this.now() - state.clusterState.readAtMs >= CLUSTER_STATE_READ_EVERY_MS) {
      state.clusterState.readAtMs = this.now();
      state.clusterState.seenSerial = await this.takeClusterState(app, backend, 'mirror', state.clusterState.seenSerial);
    }
    const why = `another cutover drives app "${app}" on the cluster: Lease ${backend.lease!.name} is held by ${lease.holder} until ${lease.expiresAt.toISOString()}`;
    const rollout = store.activeRollout(app);
    if (rollout && this.isUnknownToCluster(app, rollout.id)) this.failRollout(rollout, `${why}; nothing was changed`);
    else if (state.leaseHolder !== lease.holder) this.log(`${why}; waiting for it`);
    state.leaseHolder = lease.holder;
    return false;
  }

  /**
   * Brings the app's state from the cluster into the store, when another cutover wrote it (or
   * this store knows nothing of the app); returns the serial read. `mirror` (Lease held
   * elsewhere) reads only a serial not seen yet.
   */
  private async takeClusterState(app: string, backend: RevisionBackend, why: 'takeover' | 'mirror' | 'deploy', seenSerial = -1): Promise<number> {
    const { store } = this.options;
    const found = await backend.state?.read();
    if (!found || found.serial === seenSerial) return found?.serial ?? seenSerial;
    if (found.writtenBy === backend.lease?.holder && store.latestRevision(app) !== null) return found.serial; // Ours: the store is as new or newer.
    const taken = store.importClusterState(found.state);
    for (const { rolloutId, reason } of taken.superseded) this.emit(app, rolloutId, 'rollout-failed', `rollout ${rolloutId} failed: ${reason}`);
    if (taken.revisions + taken.rollouts > 0) {
      const what = `${taken.revisions} revision${taken.revisions === 1 ? '' : 's'} and ${taken.rollouts} rollout${taken.rollouts === 1 ? '' : 's'}`;
      const verb = why === 'mirror' ? 'read' : 'taken';
      this.emit(
        app,
        store.activeRollout(app)?.id ?? null,
        'cluster-state',
        `state ${verb} from the cluster (ConfigMap ${backend.state!.name}, written by ${found.writtenBy}): ${what} new or changed`,
      );
    }
    return found.serial;
  }

  /** While this cutover holds a cluster app's Lease, the app's state goes to the cluster after every pass that changed it. */
  private async writeClusterState(app: string, state: AppRuntimeState): Promise<void> {
    const backend = this.backendOf(app);
    if (!backend?.state || !backend.lease || !state.clusterState.isTaken) return;
    const holder = backend.lease.holder;
    // Keys say who started a rollout, and stay unique if a data dir is ever started afresh.
    const snapshot = clusterStateOf(this.options.store, app, () => `${holder}#${randomBytes(4).toString('hex')}`);
    const json = JSON.stringify(snapshot);
    if (json === state.clusterState.lastWritten) return;
    await backend.state.write(snapshot, holder);
    state.clusterState.lastWritten = json;
  }

  /**
   * A rollout the cluster knows nothing of: started here and never written there. One the
   * cluster knows (written by this cutover before it lost the Lease, or taken from there) goes on
   * wherever the Lease holder drives it.
   */
  private isUnknownToCluster(app: string, rolloutId: number): boolean {
    return !this.options.store.clusterRolloutKeys(app, [rolloutId]).has(rolloutId);
  }

  /**
   * Before a deploy of cluster apps: their state comes from the cluster, so that a deploy from a
   * new machine (a laptop, a CI runner) numbers revisions on from the cluster's and sees a rollout
   * in progress there. The cluster must answer: a deploy that cannot see it does not start.
   */
  async takeClusterStates(specs: readonly AppSpec[]): Promise<void> {
    for (const spec of specs) {
      const backend = this.backendOf(spec.name, spec);
      if (!backend?.state) continue;
      const state = this.appState(spec.name);
      // A cutover that holds the Lease writes the state itself: nothing newer is there to take.
      if (!state.clusterState.isTaken) await this.takeClusterState(spec.name, backend, 'deploy');
    }
  }

  /** A cluster app whose Lease another cutover holds: commands for it go there (`forward`). */
  isDrivenElsewhere(app: string): boolean {
    return Boolean(this.apps.get(app)?.leaseHolder) && Boolean(this.backendOf(app)?.commands);
  }

  /**
   * Sends a command for a cluster app to the cutover that drives it (through the cluster) and
   * waits for its answer: the rollout as that cutover left it, taken from the cluster's state,
   * or that cutover's refusal as the same error it would have raised here.
   */
  async forward(app: string, command: ClusterCommand): Promise<RolloutRecord> {
    const backend = this.backendOf(app);
    const holder = this.apps.get(app)?.leaseHolder;
    if (!backend?.commands || !backend.lease || !holder)
      throw new CutoverError('NO_ACTIVE_ROLLOUT', `app "${app}" is not driven by another cutover`, { hint: `Run it again: cutover ${command.verb} ${app}` });
    const id = await backend.commands.send(command, backend.lease.holder);
    const deadline = this.now() + COMMAND_ANSWER_WAIT_MS;
    for (;;) {
      const answer = await backend.commands.answerOf(id);
      if (answer?.state === 'done') {
        await backend.commands.forget([id]);
        if (answer.code !== 'OK')
          throw new CutoverError(
            answer.code,
            `${answer.message} (answered by ${holder}, which drives the app)`,
            answer.hint === undefined ? {} : { hint: answer.hint },
          );
        // The holder wrote its state before it answered: show the command's effect here at once.
        const state = this.appState(app);
        state.clusterState.seenSerial = await this.takeClusterState(app, backend, 'mirror');
        const { store } = this.options;
        return store.activeRollout(app) ?? store.listRollouts(app, 1)[0]!;
      }
      if (this.now() > deadline) {
        if (answer === null) await backend.commands.forget([id]);
        const taken = answer === null ? 'it was withdrawn' : 'it took the command, so it may still run it';
        throw new CutoverError(
          'COMMAND_NOT_ANSWERED',
          `${command.verb} for app "${app}" was sent to ${holder}, which drives the app, and not answered within ${COMMAND_ANSWER_WAIT_MS / 1000} s; ${taken}`,
          {
            hint: `See where the app stands with: cutover status ${app}; that cutover may be gone (its Lease runs out within ${DEFAULT_LEASE_DURATION_SECONDS} s, then this one drives the app)`,
          },
        );
      }
      await sleep(250);
    }
  }

  /**
   * The Lease holder runs the commands other cutovers sent for the app, oldest first. Each is
   * marked taken before it runs, so a holder that dies meanwhile never runs it twice; the answer
   * goes back once the state it led to is written to the cluster.
   */
  private async serveCommands(app: string): Promise<void> {
    const state = this.apps.get(app);
    const backend = this.backendOf(app);
    if (!state || !backend?.commands || !state.clusterState.isTaken || state.isServingCommands || this.isShuttingDown) return;
    state.isServingCommands = true;
    try {
      const queued = await backend.commands.list();
      const stale = queued.filter((c) => Date.now() - c.at > COMMAND_KEPT_MS);
      await backend.commands.forget(stale.map((c) => c.id));
      for (const command of queued.filter((c) => c.answer === null && !stale.includes(c))) {
        await backend.commands.answer(command, { state: 'taken' });
        const answer = await this.runCommand(app, command.command);
        this.emit(
          app,
          this.currentRolloutId(app),
          'cluster-command',
          `${command.command.verb} sent by ${command.by}: ${answer.code === 'OK' ? answer.message : `refused (${answer.code}): ${answer.message}`}`,
        );
        await backend.commands.answer(command, answer);
      }
    } catch (error) {
      if (!(error instanceof CutoverError)) throw error;
      this.log(`commands for ${app} from other cutovers wait: ${error.message}`);
    } finally {
      state.isServingCommands = false;
    }
  }

  private async runCommand(app: string, command: ClusterCommand): Promise<CommandOutcome> {
    try {
      const rollout = await (async () => {
        switch (command.verb) {
          case 'promote':
            return this.promote(app, { full: command.isFull ?? false });
          case 'pause':
            return this.pause(app);
          case 'resume':
            return this.resume(app);
          case 'abort':
            return this.abort(app);
          case 'rollback':
            return this.rollback(app, command.toRevision);
        }
      })();
      await this.settle(app);
      const now = this.options.store.getRollout(rollout.id)!;
      return { state: 'done', code: 'OK', message: `rollout ${now.id} ${now.phase}: ${now.step}` };
    } catch (error) {
      if (!(error instanceof CutoverError)) throw error;
      return { state: 'done', code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
    }
  }

  /** Commands on a cluster app another cutover drives would change nothing there: refused, naming that cutover. */
  private refuseIfDrivenElsewhere(app: string, verb: string): void {
    const holder = this.apps.get(app)?.leaseHolder;
    if (!holder) return;
    throw new CutoverError('APP_DRIVEN_ELSEWHERE', `app "${app}" is driven by another cutover (${holder}) on the cluster: cannot ${verb} it from here`, {
      hint: `Run the command where that cutover runs, or stop it there (cutover down): its Lease runs out within ${DEFAULT_LEASE_DURATION_SECONDS} s and this cutover takes the app over where the cluster's state says it stands.`,
    });
  }

  private async observeCluster(
    backend: RevisionBackend,
    nowMs: number,
  ): Promise<{ pods: RevisionInstance[]; revisions: Set<number>; desired: Map<number, number>; terminating: number }> {
    const observed = await backend.runtime.observe();
    return {
      pods: revisionInstances(observed, (wall) => this.monotonicFrom(wall), nowMs),
      revisions: new Set(observed.map((r) => r.revision)),
      desired: new Map(observed.map((r) => [r.revision, r.desiredReplicas])),
      terminating: observed.reduce((sum, r) => sum + r.terminatingPods.length, 0),
    };
  }

  /**
   * Pods that will not become ready by themselves (a crash loop, an image that cannot be pulled;
   * see `podFailure`) are said as they fail, against the pods observed before (`clusterPods`).
   * One of the revision a forward rollout brings fails that rollout, as a crashed local instance
   * does: it turns back, or fails on a first deploy. A failed pod of another revision (the stable
   * one) is only reported: it judges no rollout.
   */
  private judgePodFailures(app: string, pods: readonly RevisionInstance[]): void {
    const state = this.appState(app);
    const known = new Map((state.clusterPods ?? []).map((p) => [p.id, p.failure]));
    const rollout = this.options.store.activeRollout(app);
    for (const pod of pods) {
      if (pod.failure === null) continue;
      if (!known.get(pod.id)) this.emit(app, rollout?.id ?? null, 'instance-failed', `revision ${pod.revision}: ${pod.failure}`);
      if (rollout?.direction === 'forward' && pod.revision === rollout.toRevision && !state.rolloutFailures.has(rollout.id)) {
        state.rolloutFailures.set(rollout.id, pod.failure);
        this.requestReconcile(app);
      }
    }
  }

  /**
   * A plan's starts and stops as replica counts: the cluster creates and deletes the pods. A
   * revision with no ReplicaSet yet gets one from its own spec. Rule 2 holds through the plan
   * pushed before: a stopped pod's revision count drops only after that plan left it out.
   */
  private async applyReplicaCounts(
    app: string,
    backend: RevisionBackend,
    cluster: { pods: readonly ObservedInstance[]; revisions: Set<number>; desired: Map<number, number> },
    starts: readonly { revision: number; count: number }[],
    stopIds: readonly string[],
  ): Promise<void> {
    for (const [revision, count] of replicaCounts(cluster.pods, starts, stopIds)) {
      if (!cluster.revisions.has(revision)) {
        if (count === 0) continue;
        await backend.runtime.ensureRevision(revision, count, this.options.store.getRevision(app, revision)!.spec);
        this.emit(app, this.currentRolloutId(app), 'instance-starting', `revision ${revision}: created with ${count} replica${count === 1 ? '' : 's'}`);
      } else if (cluster.desired.get(revision) !== count) {
        await backend.runtime.scaleRevision(revision, count);
        this.emit(
          app,
          this.currentRolloutId(app),
          count > (cluster.desired.get(revision) ?? 0) ? 'instance-starting' : 'instance-draining',
          `revision ${revision}: scaled from ${cluster.desired.get(revision)} to ${count} replica${count === 1 ? '' : 's'}`,
        );
      }
    }
  }

  private lastListen(app: string): { host: string; port: number } {
    const latest = this.options.store.latestRevision(app);
    return latest?.spec.listen ?? { host: '127.0.0.1', port: 0 };
  }

  // ---- instances -------------------------------------------------------------------------

  private liveInstances(app: string): ManagedInstance[] {
    return [...this.instances.values()].filter((i) => i.record.app === app && isLive(i.record.state) && !i.isStopping);
  }

  /**
   * Records the instance before its process exists, then starts it and records its pid: a crash
   * in between leaves a record without a pid, which the next controller uses to find and stop
   * the process (see `adoptLeftovers`). A failed write starts nothing.
   */
  private async startInstance(spec: AppSpec, revision: number, rolloutId: number | null): Promise<void> {
    const id = `${spec.name}-${revision}-${randomBytes(3).toString('hex')}`;
    const logPath = path.join(this.options.dataDir, 'logs', spec.name, `${id}.log`);
    const planned: InstanceRecord = {
      id,
      app: spec.name,
      revision,
      pid: null,
      identity: null,
      rolloutId,
      port: 0,
      state: 'starting',
      reason: null,
      logPath,
      startedAt: Date.now(),
      readyAt: null,
      stoppedAt: null,
    };
    this.options.store.upsertInstance(planned);
    const started = await this.options.runtime.start({ app: spec.name, revision, instanceId: id, run: spec.run, logPath });
    const record: InstanceRecord = { ...planned, pid: started.pid, identity: started.identity, port: started.port };
    try {
      this.manage(record, started, spec, rolloutId, { startedAtMs: this.now(), readyAtMs: null });
    } catch (error) {
      // Its pid is not on record: no later controller could find it. It goes now.
      if (started.pid !== null) await this.options.runtime.stop(started.pid, 0);
      this.instances.delete(id);
      throw error;
    }
    this.emit(
      spec.name,
      this.currentRolloutId(spec.name),
      'instance-starting',
      `${id} starting (revision ${revision}, pid ${started.pid ?? '-'}, port ${started.port})`,
    );
  }

  /** Keeps an instance from now on: persisted, health-checked, and failed when it exits unasked. */
  private manage(
    record: InstanceRecord,
    started: StartedInstance,
    spec: AppSpec,
    rolloutId: number | null,
    times: { startedAtMs: number; readyAtMs: number | null },
  ): ManagedInstance {
    const instance: ManagedInstance = {
      record,
      host: started.host,
      spec,
      ...times,
      rolloutId,
      consecutiveSuccesses: 0,
      consecutiveFailures: 0,
      lastProbe: 'no check yet',
      healthTimer: null,
      isStopping: false,
    };
    this.instances.set(record.id, instance);
    this.options.store.upsertInstance(record);
    void started.exited.then((exit) =>
      this.guard(() => {
        if (instance.isStopping) return;
        const uptime = formatMs(this.now() - instance.startedAtMs);
        const how = exit.spawnError ?? (exit.signal ? `was killed by ${exit.signal}` : exit.code === null ? 'exited' : `exited with code ${exit.code}`);
        const output = exit.spawnError ? null : lastLogLine(instance.record.logPath);
        const said = output ? `; its last output: ${JSON.stringify(output)}` : '';
        const reason =
          instance.record.state === 'ready'
            ? `crashed: ${how} after ${uptime}${said}`
            : exit.spawnError
              ? how
              : `${how} ${uptime} after start, before becoming ready${said}`;
        this.failInstance(instance, reason);
      }),
    );
    this.scheduleHealthCheck(instance, 0);
    return instance;
  }

  private scheduleHealthCheck(instance: ManagedInstance, delayMs: number): void {
    instance.healthTimer = setTimeout(() => this.guard(() => this.checkHealth(instance)), delayMs);
  }

  private async checkHealth(instance: ManagedInstance): Promise<void> {
    const { health } = instance.spec;
    if (instance.isStopping || !isLive(instance.record.state)) return;
    const result = await probe(instance.host, instance.record.port, health.path, health.timeoutMs);
    if (instance.isStopping || !isLive(instance.record.state)) return;
    instance.lastProbe = result.detail;
    if (result.isHealthy) {
      instance.consecutiveSuccesses += 1;
      instance.consecutiveFailures = 0;
    } else {
      instance.consecutiveFailures += 1;
      instance.consecutiveSuccesses = 0;
    }
    if (instance.record.state === 'starting') {
      if (instance.consecutiveSuccesses >= health.healthyThreshold) {
        this.markReady(instance);
      } else if (this.now() - instance.startedAtMs >= health.startupTimeoutMs) {
        const hint = result.detail.includes('ECONNREFUSED') ? '; does the app listen on $PORT?' : '';
        this.failInstance(
          instance,
          `not ready within the startup timeout of ${formatMs(health.startupTimeoutMs)} (last check GET ${health.path}: ${result.detail})${hint}`,
        );
        return;
      }
    } else if (instance.consecutiveFailures >= health.unhealthyThreshold) {
      // Never eject the last ready instance: a struggling instance serves more than none does.
      const isLastReady = !this.liveInstances(instance.record.app).some((i) => i !== instance && i.record.state === 'ready');
      if (!isLastReady) {
        this.failInstance(instance, `unhealthy: ${instance.consecutiveFailures} failed checks in a row (GET ${health.path}: ${result.detail})`);
        return;
      }
      if (instance.consecutiveFailures === health.unhealthyThreshold) {
        this.emit(
          instance.record.app,
          this.currentRolloutId(instance.record.app),
          'instance-unhealthy',
          `${instance.record.id} fails its health checks (GET ${health.path}: ${result.detail}) but is the last ready instance: it stays in traffic`,
        );
      }
    }
    this.scheduleHealthCheck(instance, health.intervalMs);
  }

  private markReady(instance: ManagedInstance): void {
    instance.readyAtMs = this.now();
    instance.record = { ...instance.record, state: 'ready', readyAt: Date.now() };
    this.options.store.upsertInstance(instance.record);
    this.emit(
      instance.record.app,
      this.currentRolloutId(instance.record.app),
      'instance-ready',
      `${instance.record.id} ready after ${formatMs(instance.readyAtMs - instance.startedAtMs)}`,
    );
    this.requestReconcile(instance.record.app);
  }

  private failInstance(instance: ManagedInstance, reason: string): void {
    if (instance.record.state === 'failed' || instance.record.state === 'stopped') return;
    const app = instance.record.app;
    const state = this.appState(app);
    instance.record = { ...instance.record, state: 'failed', reason };
    if (instance.rolloutId !== null && !state.rolloutFailures.has(instance.rolloutId)) {
      state.rolloutFailures.set(instance.rolloutId, `instance ${instance.record.id} ${reason}`);
    }
    state.restartBackoff.recordFailure(instance.record.revision, this.now());
    // Out of traffic first (the reconcile pushes a plan without it), then make sure it is gone;
    // that goes on even when the record below cannot be written (disk full).
    this.requestReconcile(app);
    this.beginStop(instance, reason, { keepState: true });
    this.options.store.upsertInstance(instance.record);
    this.emit(app, this.currentRolloutId(app), 'instance-failed', `${instance.record.id} failed: ${reason}`);
  }

  private beginStop(instance: ManagedInstance, why: string, options: { keepState?: boolean } = {}): void {
    if (instance.isStopping) return;
    const stop = this.stopInstance(instance, why, options).catch((error: unknown) => this.log(`stopping ${instance.record.id} failed: ${String(error)}`));
    this.pendingStops.add(stop);
    void stop.finally(() => this.pendingStops.delete(stop));
  }

  /**
   * Rule 2: out of the plan (done by the caller's reconcile), in-flight requests finish or the
   * drain timeout passes, then SIGTERM, then SIGKILL to the group after the stop timeout.
   */
  private async stopInstance(instance: ManagedInstance, why: string, options: { keepState?: boolean } = {}): Promise<void> {
    if (instance.isStopping) return;
    instance.isStopping = true;
    if (instance.healthTimer) clearTimeout(instance.healthTimer);
    const { app, id } = instance.record;
    if (!options.keepState) {
      instance.record = { ...instance.record, state: 'draining' };
      this.options.store.upsertInstance(instance.record);
      this.emit(app, this.currentRolloutId(app), 'instance-draining', `${id} draining (${why})`);
    }
    await this.waitUntilOutOfPlan(app, id, instance.spec.drainTimeoutMs);
    await this.waitForDrain(id, this.now() + drainWaitMs(instance.spec));
    const { pid } = instance.record;
    const result = pid === null ? { wasKilled: false } : await this.options.runtime.stop(pid, instance.spec.stopTimeoutMs);
    if (result.wasKilled)
      this.emit(
        app,
        this.currentRolloutId(app),
        'instance-killed',
        `${id} ignored SIGTERM for ${formatMs(instance.spec.stopTimeoutMs)}: killed its process group`,
      );
    if (!options.keepState) {
      instance.record = { ...instance.record, state: 'stopped', stoppedAt: Date.now() };
      this.emit(app, this.currentRolloutId(app), 'instance-stopped', `${id} stopped`);
    } else {
      instance.record = { ...instance.record, stoppedAt: Date.now() };
    }
    this.options.store.upsertInstance(instance.record);
    this.instances.delete(id);
    this.requestReconcile(app);
  }

  private currentRolloutId(app: string): number | null {
    return this.options.store.activeRollout(app)?.id ?? null;
  }

  /**
   * The reconcile that decided a stop pushes a plan without the instance; wait until the proxy
   * confirmed one. If the proxy cannot confirm for a long time, stop anyway and say so.
   */
  private async waitUntilOutOfPlan(app: string, id: string, drainTimeoutMs: number): Promise<void> {
    const state = this.appState(app);
    const marker = JSON.stringify({ id }).slice(1, -1);
    const deadline = this.now() + drainTimeoutMs + PLAN_CONFIRM_GRACE_MS;
    this.requestReconcile(app);
    while ((state.lastPlanKey === '' || state.lastPlanKey.includes(marker)) && !this.isShuttingDown) {
      if (this.now() >= deadline) {
        this.emit(
          app,
          this.currentRolloutId(app),
          'instance-stop-forced',
          `${id}: the proxy did not confirm a plan without it for ${formatMs(drainTimeoutMs + PLAN_CONFIRM_GRACE_MS)}; stopping it anyway`,
        );
        return;
      }
      await sleep(DRAIN_POLL_MS);
    }
  }

  /** Waits until the proxy counts no request in flight on the instance; an unanswered count means busy. */
  private async waitForDrain(id: string, deadline: number): Promise<void> {
    while (this.now() < deadline) {
      const counts = await this.options.router.inflight().catch(() => null);
      if (counts !== null && !counts[id]) return;
      await sleep(DRAIN_POLL_MS);
    }
  }

  /**
   * Instances recorded as live by an earlier controller keep running and serving when they are
   * what the record says: the same process (pid and start time), listening on the same port,
   * and healthy (checked at once, judged like any instance). One that is gone is recorded as
   * stopped; a pid that now names another process is left alone; one of ours that no longer
   * listens is failed (out of traffic first, then stopped) and replaced. A record
   * without a pid (the controller died while starting it) has its process found and stopped.
   */
  private async adoptLeftovers(): Promise<void> {
    const { store, runtime } = this.options;
    const checks: Promise<void>[] = [];
    for (const record of store.listInstances(undefined, { includeStopped: true }).filter((i) => i.stoppedAt === null && i.state !== 'stopped')) {
      const spec = store.getRevision(record.app, record.revision)?.spec;
      if (record.pid === null) {
        checks.push(
          runtime.stopUnrecorded(record.id).then((found) => {
            const why = found ? 'stopped: the controller died while starting it' : 'never started: the controller died before starting it';
            store.upsertInstance({ ...record, state: 'stopped', reason: why, stoppedAt: Date.now() });
          }),
        );
        continue;
      }
      const adopted = spec ? runtime.adopt({ pid: record.pid, identity: record.identity, port: record.port, logPath: record.logPath }) : null;
      if (!spec || !adopted) {
        store.upsertInstance({ ...record, state: 'stopped', reason: 'gone when the controller restarted', stoppedAt: Date.now() });
        continue;
      }
      const readyAtMs = record.state === 'ready' && record.readyAt !== null ? this.monotonicFrom(record.readyAt) : null;
      const instance = this.manage(record, adopted, spec, record.rolloutId, { startedAtMs: this.monotonicFrom(record.startedAt), readyAtMs });
      this.emit(
        record.app,
        this.currentRolloutId(record.app),
        'instance-adopted',
        `${record.id} adopted (${record.state}, pid ${record.pid}, port ${record.port})`,
      );
      if (record.state === 'draining') this.beginStop(instance, 'it was draining when the controller restarted');
      else if (record.state === 'failed') this.beginStop(instance, record.reason ?? 'it had failed', { keepState: true });
      else if (record.state === 'ready' && !adopted.isListening)
        this.failInstance(instance, `no longer listens on port ${record.port} after the controller restarted`);
      // A ready one is health-checked at once (see manage) and, like any ready instance, replaced
      // after unhealthyThreshold failed checks in a row, never as the last ready one: a single
      // slow answer from a loaded machine must not empty the pool.
    }
    await Promise.all(checks);
  }

  /** History is bounded: old events, ended instances and their log files go. */
  private pruneHistory(): void {
    for (const logPath of this.options.store.prune({ keepEvents: KEEP_EVENTS, keepEndedInstances: KEEP_ENDED_INSTANCES, keepTrafficMs: KEEP_TRAFFIC_MS })) {
      fs.rmSync(logPath, { force: true });
      fs.rmSync(`${logPath}.1`, { force: true });
    }
  }

  private appState(app: string): AppRuntimeState {
    let state = this.apps.get(app);
    if (!state) {
      state = {
        running: null,
        isDirty: false,
        holds: 0,
        lastPlanKey: '',
        lastPlanError: null,
        restartBackoff: new RestartBackoff(),
        rolloutFailures: new Map(),
        wakeTimer: null,
        leaseHolder: null,
        clusterOutage: null,
        clusterPods: null,
        clusterState: { isTaken: false, lastWritten: null, seenSerial: -1, readAtMs: -Infinity },
        isServingCommands: false,
      };
      this.apps.set(app, state);
    }
    return state;
  }

  private emit(app: string, rolloutId: number | null, kind: EventKind, message: string): void {
    const record = this.options.store.addEvent(app, rolloutId, kind, message);
    if (eventStored.hasSubscribers) eventStored.publish(record);
    this.log(`[${app}] ${message}`);
    this.options.onEventStored?.(kind, rolloutId);
  }
}

function servingOf(instance: ManagedInstance): ServingInstance {
  return { id: instance.record.id, revision: instance.record.revision, host: instance.host, port: instance.record.port };
}

/** An address as a URL a local client can use: wildcards become loopback. */
function urlOf(address: HostPort): string {
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  return `${(ms / 60_000).toFixed(1)}m`;
}
