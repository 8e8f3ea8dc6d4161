import fs from 'node:fs';
import { AnalysisRunner, type PointVerdict } from '../analysis/analysis-runner.js';
import { MeasurementHistory } from '../analysis/measurement-history.js';
import { BuiltinProvider, CommandProvider, HttpProvider, PrometheusProvider } from '../analysis/metric-provider.js';
import { ClusterCoordinator } from '../fleet/cluster/cluster-coordinator.js';
import { ClusterFleet } from '../fleet/cluster/cluster-fleet.js';
import type { ClusterCommand } from '../fleet/cluster/kubernetes-command-queue.js';
import type { RevisionBackendFactory } from '../fleet/cluster/revision-backend.js';
import { adoptLeftovers } from '../fleet/local/adopt-leftovers.js';
import { LocalFleet } from '../fleet/local/local-fleet.js';
import { HookRunner } from '../hooks/hook-runner.js';
import type { EventKind } from '../model/event-kinds.js';
import type { StrategyName } from '../model/rollout.js';
import type { AppSpec, HookPoint } from '../model/app-spec.js';
import type { TrafficRouter } from '../router/traffic-router.js';
import type { ImageResolver, Runtime } from '../runtime/runtime.js';
import { CutoverError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { RolloutRecord } from '../model/records.js';
import { EventLog } from './event-log.js';
import { Housekeeping } from './housekeeping.js';
import { liveMetrics } from './live-metrics.js';
import { type LiveMetrics } from '../protocol/live-metrics.js';
import { OperatorCommands } from './operator-commands.js';
import type { DeployResult } from '../protocol/deploy-result.js';
import type { ScaleResult } from '../protocol/scale-result.js';
import type { RemoveResult } from '../protocol/remove-result.js';
import { AppRemoval } from './remove-app.js';
import { ReconcileLoop, TICK_MS } from './reconcile-loop.js';
import { RolloutAnalyses } from './rollout-analyses.js';
import { RolloutPass } from './rollout-pass.js';
import { RolloutTransitions } from './rollout-transitions.js';
import { buildStatus, withRuntimeView } from './status.js';
import { type StatusReport } from '../protocol/status.js';
import { StorageGuard } from './storage-guard.js';
import { TrafficPusher } from './traffic-pusher.js';
import { ReleaseRollouts } from './release-rollouts.js';
import { parseReleaseSource } from '../releases/release-source.js';

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
  /** Resolves container apps' images to IDs before a deploy makes their revision; without it, container apps are refused. */
  images?: ImageResolver;
}

/** The Lease holder looks for commands from other cutovers this often (in ticks: 1 s). */
const COMMANDS_EVERY_TICKS = 4;

/**
 * The control plane's facade: the admin API calls these methods. For each app the reconcile
 * loop reads the rollout record, observes instances, asks the strategy for the desired state
 * and applies the difference (see `RolloutPass`); operator commands record decisions the loop
 * carries out. Each part is wired here and owns one concern (docs/architecture.md).
 */
export class Controller {
  /** The proxy's counts over time: input of builtin analysis, the deploy report and /metrics. */
  readonly history = new MeasurementHistory();
  readonly analyses: AnalysisRunner;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly events: EventLog;
  private readonly storage: StorageGuard;
  private readonly loop: ReconcileLoop;
  private readonly hooks: HookRunner;
  private readonly traffic: TrafficPusher;
  private readonly cluster: ClusterCoordinator;
  private readonly clusterFleet: ClusterFleet;
  private readonly local: LocalFleet;
  private readonly commands: OperatorCommands;
  private readonly removal: AppRemoval;
  /** Releases of apps with `release:`: taken, built, pruned; also what `cutover releases` reads. */
  readonly releases: ReleaseRollouts;
  private tick: NodeJS.Timeout | null = null;
  private readonly housekeeping: Housekeeping;

  constructor(private readonly options: ControllerOptions) {
    const { store, dataDir } = options;
    const now = (this.now = options.now ?? (() => performance.now()));
    const log = (this.log = options.log ?? (() => {}));
    const events = (this.events = new EventLog(store, log, options.onEventStored));
    /** First failure of an instance (or object) a forward rollout started, by rollout id: the next pass turns it back. */
    const rolloutFailures = new Map<number, string>();
    const request = (app: string): void => this.loop.request(app);
    const monotonicFrom = (wallClockMs: number): number => this.monotonicFrom(wallClockMs);
    this.storage = new StorageGuard({
      store,
      dataDir,
      events,
      now,
      log,
      persistMemory: () => this.local.persistAll(),
      onResumed: () => this.loop.knownApps().forEach(request),
    });
    this.loop = new ReconcileLoop({ store, storage: this.storage, rolloutFailures, log, pass: (app) => pass.run(app) });
    const schedule = (app: string, delayMs: number): void => this.loop.schedule(app, delayMs);
    const isShuttingDown = (): boolean => this.loop.isStopping;
    const emit = (app: string, rolloutId: number | null, kind: EventKind, message: string): void => events.emit(app, rolloutId, kind, message);
    this.hooks = new HookRunner({ store, dataDir, emit, onSettled: request, log });
    const providers = {
      builtin: new BuiltinProvider(this.history, now),
      prometheus: new PrometheusProvider(),
      command: new CommandProvider(),
      http: new HttpProvider(),
    };
    this.analyses = new AnalysisRunner({ store, providers, emit, onSettled: request, log });
    const transitions = new RolloutTransitions({ store, events, rolloutFailures, requestReconcile: request, scheduleReconcile: schedule });
    this.cluster = new ClusterCoordinator({
      store,
      dataDir,
      events,
      now,
      log,
      revisionBackend: options.revisionBackend,
      failRollout: (rollout, reason) => transitions.fail(rollout, reason),
      runCommand: (app, command) => this.runCommand(app, command),
      isShuttingDown,
    });
    this.traffic = new TrafficPusher(store, events, (app) => this.cluster.backendOf(app)?.router ?? options.router);
    const guard = (action: () => void | Promise<void>): void => this.storage.guard(action);
    this.local = new LocalFleet({
      store,
      runtime: options.runtime,
      router: options.router,
      dataDir,
      now,
      log,
      events,
      guard,
      rolloutFailures,
      requestReconcile: request,
      isOutOfPlan: (app, id) => this.traffic.isConfirmedWithout(app, id),
      isShuttingDown,
    });
    this.clusterFleet = new ClusterFleet({
      store,
      events,
      backendOf: (app) => this.cluster.backendOf(app),
      rolloutFailures,
      requestReconcile: request,
      monotonicFrom,
    });
    const rolloutAnalyses = new RolloutAnalyses(store, this.analyses);
    const liveRevisions = (app: string): Set<number> => new Set(store.listInstances(app).flatMap((i) => (i.state === 'failed' ? [] : [i.revision])));
    const failRollout = (rollout: RolloutRecord, reason: string): void => void transitions.fail(rollout, reason);
    this.releases = new ReleaseRollouts({ store, dataDir, events, failRollout, requestReconcile: request, liveRevisions, log });
    const pass = new RolloutPass({
      releases: this.releases,
      store,
      events,
      hooks: this.hooks,
      analyses: this.analyses,
      rolloutAnalyses,
      transitions,
      traffic: this.traffic,
      cluster: this.cluster,
      local: this.local,
      clusterFleet: this.clusterFleet,
      rolloutFailures,
      requestReconcile: request,
      scheduleReconcile: schedule,
      now,
      monotonicFrom,
    });
    this.commands = new OperatorCommands({
      store,
      events,
      loop: this.loop,
      transitions,
      cluster: this.cluster,
      analyses: this.analyses,
      traffic: this.traffic,
      local: this.local,
      rolloutFailures,
      specHash: options.specHash,
      releases: this.releases,
    });
    const routerOf = (app: string): TrafficRouter => this.cluster.backendOf(app)?.router ?? options.router;
    this.housekeeping = new Housekeeping({ store, router: options.router, history: this.history, storage: this.storage, now, log });
    this.removal = new AppRemoval({ store, events, loop: this.loop, cluster: this.cluster, routerOf });
  }

  /** Adopts what an earlier controller left running, then reconciles every known app. */
  async start(): Promise<void> {
    const { store, runtime } = this.options;
    this.hooks.killOrphans();
    await this.cluster.prepare(store.listApps().map(({ name }) => store.latestRevision(name)?.spec));
    await this.releases.recover();
    // No reconcile may run on half the instances: a stop begun while adopting asks for one.
    this.loop.pause();
    try {
      await adoptLeftovers(this.local, { store, runtime, events: this.events, monotonicFrom: (wall) => this.monotonicFrom(wall) });
    } finally {
      this.loop.resume();
    }
    this.housekeeping.start();
    for (const { name } of store.listApps()) this.loop.request(name);
    let ticks = 0;
    this.tick = setInterval(() => {
      this.storage.check();
      const apps = this.loop.knownApps();
      this.loop.tick();
      ticks += 1;
      if (ticks % COMMANDS_EVERY_TICKS === 0) for (const app of apps) this.storage.guard(() => this.cluster.serveCommands(app));
    }, TICK_MS);
  }

  /**
   * `cutover restart`: stops the loop, leaving every instance and rollout as they are for the
   * next controller to adopt and carry on (as after a crash, without the crash).
   */
  async stepDown(): Promise<void> {
    const loopStopped = this.loop.stop();
    if (this.tick) clearInterval(this.tick);
    this.housekeeping.stop();
    this.analyses.stop();
    await loopStopped;
  }

  /** Stops every instance gracefully (out of traffic, drained, SIGTERM), then the loop. */
  async shutdown(): Promise<void> {
    const { store } = this.options;
    const loopStopped = this.loop.stop();
    if (this.tick) clearInterval(this.tick);
    this.housekeeping.stop();
    this.analyses.stop();
    await loopStopped;
    await this.hooks.stop();
    for (const { name } of store.listApps()) {
      const active = store.activeRollout(name);
      // A cluster app's rollout stays where it is, on the cluster: another cutover (or this one, started again) drives it on.
      if (!active || this.cluster.backendOf(name)?.state) continue;
      const aborted = store.updateRollout(active.id, { phase: 'aborted', reason: 'the daemon was stopped during the rollout' });
      this.hooks.skipFinal(aborted, 'the daemon was stopped during the rollout');
      this.events.emit(
        name,
        active.id,
        'rollout-aborted',
        `rollout ${active.id} aborted: the daemon was stopped during it; revision ${active.fromRevision ?? '-'} stays stable`,
      );
    }
    const apps = this.loop.knownApps();
    await Promise.all(apps.map((app) => (this.cluster.backendOf(app)?.router ?? this.options.router).removeApp(app).catch(() => {})));
    await this.local.stopAll('the daemon is going down');
    await this.options.router.close?.().catch((error: unknown) => this.log(`closing the router failed: ${(error as Error).message}`));
    // Another cutover may drive the cluster apps now (their pods keep running), from the state written here.
    await this.cluster.letGo(apps);
    this.options.runtime.close();
  }

  deploy(
    specs: readonly AppSpec[],
    options: { strategy?: StrategyName; skipHooks?: readonly HookPoint[]; restart?: boolean; overrides?: readonly string[] } = {},
  ): DeployResult[] {
    return options.restart ? this.commands.restart(specs, options) : this.commands.deploy(specs, options);
  }

  /** A deploy that first takes the releases of apps with `release:` (from `from`, else their `release.from`), then prunes. */
  async ship(
    specs: readonly AppSpec[],
    options: { strategy?: StrategyName; skipHooks?: readonly HookPoint[]; from?: string; overrides?: readonly string[] } = {},
  ): Promise<DeployResult[]> {
    const staged = await this.releases.stage(specs, options.from === undefined ? null : parseReleaseSource(options.from, '/'));
    try {
      return this.commands.deploy(specs, { ...options, releases: staged });
    } finally {
      // A copy the deploy did not take (unchanged app, refused deploy) is removed; one it took has its revision's name.
      await this.releases.discard(new Map([...staged].filter(([, release]) => release.partialDir !== null && fs.existsSync(release.partialDir))));
      for (const app of staged.keys()) await this.releases.prune(app).catch((error: Error) => this.log(`pruning releases of ${app}: ${error.message}`));
    }
  }

  /** `cutover scale`: the app's instance count, without a new revision. */
  scale(app: string, replicas: number): ScaleResult {
    return this.commands.scale(app, replicas);
  }

  /** `cutover remove`: out of traffic, drained, stopped, forgotten; its history stays. */
  remove(app: string): Promise<RemoveResult> {
    return this.removal.remove(app);
  }

  rollback(app: string, toRevision?: number): RolloutRecord {
    return this.commands.rollback(app, toRevision);
  }

  promote(app: string, options: { full?: boolean; wait?: boolean } = {}): Promise<RolloutRecord> {
    return this.commands.promote(app, options);
  }

  pause(app: string): RolloutRecord {
    return this.commands.pause(app);
  }

  resume(app: string): RolloutRecord {
    return this.commands.resume(app);
  }

  abort(app: string): Promise<RolloutRecord> {
    return this.commands.abort(app);
  }

  requestReconcile(app: string): void {
    this.loop.request(app);
  }

  /** Per-revision requests per second, errors and p99 over the last seconds, from the proxy's counts. */
  liveMetrics(appName?: string): LiveMetrics {
    return liveMetrics(this.history, this.options.store, this.now(), appName);
  }

  /** What is stored, with what only this controller knows: cluster pods, who drives an app elsewhere, a storage hold. */
  status(appName?: string): StatusReport {
    return withRuntimeView(buildStatus(this.options.store, appName), {
      podsOf: (app) => this.clusterFleet.statusOf(app),
      lastCheckOf: (id) => this.local.lastCheckOf(id),
      holderOf: (app) => this.cluster.holderOf(app),
      storageFault: this.storage.fault?.reason ?? null,
    });
  }

  /** A point's verdict, for status. */
  analysisVerdict(rolloutId: number, pointKey: string, templates: readonly string[]): PointVerdict {
    return this.analyses.verdict(rolloutId, pointKey, templates);
  }

  /**
   * Before a deploy of container apps: each image resolved to its ID (pulled when missing), so the
   * revision records what it runs; the spec hash then changes when a tag moved. Throws
   * IMAGE_UNAVAILABLE with the engine's words when an image cannot be had.
   */
  async resolveImages(specs: readonly AppSpec[]): Promise<AppSpec[]> {
    const resolved: AppSpec[] = [];
    for (const spec of specs) {
      if (spec.runtime?.kind !== 'container') {
        resolved.push(spec);
        continue;
      }
      if (!this.options.images) throw new CutoverError('RUNTIME_NOT_SUPPORTED', `app "${spec.name}" runs containers, which this controller cannot run`);
      resolved.push({ ...spec, runtime: await this.options.images.resolveImage(spec.runtime) });
    }
    return resolved;
  }

  /** Before a deploy of cluster apps: their state comes from the cluster (see `ClusterCoordinator.takeStates`). */
  takeClusterStates(specs: readonly AppSpec[]): Promise<void> {
    // Watched from now on, even before a deploy of them goes through here.
    return this.cluster.takeStates(specs, (app) => this.loop.track(app));
  }

  /** A cluster app whose Lease another cutover holds: commands for it go there (`forward`). */
  isDrivenElsewhere(app: string): boolean {
    return this.cluster.isDrivenElsewhere(app);
  }

  /** Sends a command to the cutover that drives a cluster app, and waits for its answer. */
  forward(app: string, command: ClusterCommand): Promise<RolloutRecord> {
    return this.cluster.forward(app, command);
  }

  /** A command another cutover sent through the cluster, run here as if given here; resolves once its pass is applied. */
  private async runCommand(app: string, command: ClusterCommand): Promise<RolloutRecord> {
    const rollout = await (async () => {
      switch (command.verb) {
        case 'promote':
          return this.commands.promote(app, { full: command.isFull ?? false });
        case 'pause':
          return this.commands.pause(app);
        case 'resume':
          return this.commands.resume(app);
        case 'abort':
          return this.commands.abort(app);
        case 'rollback':
          return this.commands.rollback(app, command.toRevision);
      }
    })();
    await this.loop.settle(app);
    return this.options.store.getRollout(rollout.id)!;
  }

  /** A stored wall-clock time on this process's monotonic clock (timeouts and backoffs run on it). */
  private monotonicFrom(wallClockMs: number): number {
    return this.now() - (Date.now() - wallClockMs);
  }
}
