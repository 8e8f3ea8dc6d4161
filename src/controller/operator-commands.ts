import type { AnalysisRunner } from '../analysis/analysis-runner.js';
import { droppedOverrides, maskedOverrides, overridesOfApp } from '../model/overrides.js';
import { appNotFound, CutoverError } from '../errors.js';
import type { ClusterCoordinator } from '../fleet/cluster/cluster-coordinator.js';
import type { LocalFleet } from '../fleet/local/local-fleet.js';
import type { StrategyName } from '../model/rollout.js';
import { HOOK_POINTS, type AppSpec, type HookPoint, type StrategySpec } from '../model/app-spec.js';
import { rolloutAlreadyActive, type Store } from '../store/store.js';
import { type RevisionRecord, type RolloutRecord } from '../model/records.js';
import { strategyNamed } from '../strategies/strategies.js';
import { EQUAL_SHARES } from '../strategies/strategy-plan.js';
import { formatMs } from '../util/format-ms.js';
import { strategyOf, withDefaults } from './choose-plan.js';
import type { EventLog } from './event-log.js';
import type { ReconcileLoop } from './reconcile-loop.js';
import type { RolloutTransitions } from './rollout-transitions.js';
import type { TrafficPusher } from './traffic-pusher.js';
import type { DeployResult } from '../protocol/deploy-result.js';
import type { ScaleResult } from '../protocol/scale-result.js';
import { replicasOf, setReplicas } from './app-replicas.js';
import type { StagedRelease } from '../releases/release-snapshots.js';
import type { ReleaseRollouts } from './release-rollouts.js';

export interface OperatorCommandsOptions {
  store: Store;
  events: EventLog;
  loop: ReconcileLoop;
  transitions: RolloutTransitions;
  cluster: ClusterCoordinator;
  analyses: AnalysisRunner;
  traffic: TrafficPusher;
  local: LocalFleet;
  rolloutFailures: Map<number, string>;
  /** Hashes an app spec; a changed hash makes a new revision. */
  specHash: (spec: AppSpec) => string;
  releases: ReleaseRollouts;
}

/**
 * What a person (or a script) asks of a rollout: deploy, rollback, promote, pause, resume and
 * abort. Each checks the request against the stored state, records the decision, and leaves the
 * rest to the reconcile loop; promote and abort wait until their pass is applied.
 */
export class OperatorCommands {
  constructor(private readonly options: OperatorCommandsOptions) {}

  /**
   * Creates revisions for changed apps and starts their rollouts, each with its spec's strategy
   * or `options.strategy` (that strategy's settings from the spec, which holds defaults for all).
   */
  deploy(
    specs: readonly AppSpec[],
    options: { strategy?: StrategyName; skipHooks?: readonly HookPoint[]; releases?: ReadonlyMap<string, StagedRelease>; overrides?: readonly string[] } = {},
  ): DeployResult[] {
    this.refuseWhileStopping();
    const { store, events } = this.options;
    const releases = options.releases ?? new Map<string, StagedRelease>();
    // Hashes of stored specs are taken again: a revision stored when `replicas` still counted matches its spec without it.
    // With a release, the files count too: a changed tree makes a new revision even when the config did not change.
    const isSame = (stored: RevisionRecord | null, hash: string): boolean =>
      stored !== null &&
      this.options.specHash(stored.spec) === hash &&
      (stored.release?.hash ?? null) === (releases.get(stored.app)?.hash ?? null) &&
      (stored.release?.state ?? 'ready') !== 'failed' &&
      stored.release?.state !== 'pruned';
    const plans = specs.map((spec) => {
      const hash = this.options.specHash(spec);
      const stable = store.stableRevision(spec.name);
      const stableRecord = stable === null ? null : store.getRevision(spec.name, stable);
      const active = store.activeRollout(spec.name);
      if (!active && isSame(stableRecord, hash)) return { spec, hash, isUnchanged: true as const, stable };
      if (active) throw rolloutAlreadyActive(active);
      return { spec, hash, isUnchanged: false as const, stable };
    });
    return plans.map((plan) => {
      if (plan.isUnchanged) {
        // The same revision with another count in the file is a scale, not a rollout.
        const scaled = setReplicas(this.options, plan.spec.name, plan.spec.replicas);
        return { app: plan.spec.name, revision: plan.stable!, rolloutId: null, isUnchanged: true, ...(scaled ? { scaled } : {}) };
      }
      const latest = store.latestRevision(plan.spec.name);
      store.setReplicas(plan.spec.name, plan.spec.replicas);
      const overrides = overridesOfApp(options.overrides ?? [], plan.spec.name);
      const revision = isSame(latest, plan.hash) ? latest! : this.addRevision(plan.spec, plan.hash, latest, releases.get(plan.spec.name), overrides);
      const dropped = droppedOverrides(plan.stable === null ? [] : (store.getRevision(plan.spec.name, plan.stable)?.overrides ?? []), overrides);
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
        hooks: revision.spec.hooks ?? null,
        skippedHooks,
        analysis: plan.spec.analysis ?? null,
      });
      events.emit(
        plan.spec.name,
        rollout.id,
        'rollout-started',
        `rollout ${rollout.id}: revision ${plan.stable ?? '-'} → ${revision.number} (${strategy}, ${plan.spec.replicas} replicas)`,
      );
      if (skippedHooks.length) events.emit(plan.spec.name, rollout.id, 'hooks-skipped', `hooks skipped by --skip-hooks: ${skippedHooks.join(', ')}`);
      if (revision.release) {
        const { release } = revision;
        const copied = `${(release.copiedBytes / 1e6).toFixed(1)} of ${(release.bytes / 1e6).toFixed(1)} MB copied`;
        events.emit(plan.spec.name, rollout.id, 'release-taken', `release ${release.hash.slice(0, 12)} from ${release.source} (${copied})`);
        this.options.releases.startBuild(revision, rollout.id);
      }
      this.options.loop.request(plan.spec.name);
      const shownDropped = maskedOverrides(dropped, plan.spec.run);
      return {
        app: plan.spec.name,
        revision: revision.number,
        rolloutId: rollout.id,
        isUnchanged: false,
        ...(dropped.length ? { droppedOverrides: shownDropped } : {}),
      };
    });
  }

  /** A new revision; with a release, its staged copy takes the revision's name and the stored spec runs from it. */
  private addRevision(spec: AppSpec, hash: string, latest: RevisionRecord | null, staged: StagedRelease | undefined, overrides: string[]): RevisionRecord {
    if (!staged) return this.options.store.addRevision(spec.name, spec, hash, null, overrides);
    const adopted = this.options.releases.adopt(spec, staged, (latest?.number ?? 0) + 1);
    return this.options.store.addRevision(spec.name, adopted.spec, hash, adopted.release, overrides);
  }

  /**
   * `cutover deploy --restart`: each app's stable revision rolls onto new processes through its
   * strategy (the spec's, or `options.strategy`), with its hooks and analysis: a rollout from the
   * revision to itself (see restart-view.ts). Local apps only: a cluster's pods restart by its own means.
   */
  restart(specs: readonly AppSpec[], options: { strategy?: StrategyName; skipHooks?: readonly HookPoint[] } = {}): DeployResult[] {
    this.refuseWhileStopping();
    const { store, events } = this.options;
    const known = store.listApps().map((a) => a.name);
    const checked = specs.map((spec) => {
      const stable = store.stableRevision(spec.name);
      if (!known.includes(spec.name) || stable === null) throw appNotFound(spec.name, known);
      if (this.options.cluster.backendOf(spec.name) !== null)
        throw new CutoverError('RUNTIME_NOT_SUPPORTED', `app "${spec.name}" runs on a cluster; deploy --restart restarts local processes only`, {
          hint: `Restart its pods with: kubectl rollout restart`,
        });
      const active = store.activeRollout(spec.name);
      if (active) throw rolloutAlreadyActive(active);
      return { spec, stable };
    });
    return checked.map(({ spec, stable }) => {
      const strategySpec = withDefaults(spec.strategy);
      const strategy = options.strategy ?? strategySpec.use!;
      const skippedHooks = HOOK_POINTS.filter((point) => options.skipHooks?.includes(point));
      const common = { app: spec.name, strategy, strategySpec, fromRevision: stable, toRevision: stable };
      const rollout = store.createRollout({ ...common, trigger: 'restart', hooks: spec.hooks ?? null, skippedHooks, analysis: spec.analysis ?? null });
      const replicas = replicasOf(this.options.store, spec.name);
      events.emit(
        spec.name,
        rollout.id,
        'rollout-started',
        `rollout ${rollout.id}: restart of revision ${stable} on new processes (${strategy}, ${replicas} replicas)`,
      );
      if (skippedHooks.length) events.emit(spec.name, rollout.id, 'hooks-skipped', `hooks skipped by --skip-hooks: ${skippedHooks.join(', ')}`);
      this.options.loop.request(spec.name);
      return { app: spec.name, revision: stable, rolloutId: rollout.id, isUnchanged: false };
    });
  }

  /**
   * `cutover scale`: the stable revision runs `replicas` instances from now on, without a new
   * revision; the reconcile loop starts or drains and stops the difference. Refused while a
   * rollout runs (its planner is sizing both revisions): exit 1, naming the rollout.
   */
  scale(app: string, replicas: number): ScaleResult {
    this.refuseWhileStopping();
    this.options.cluster.refuseIfDrivenElsewhere(app, 'scale');
    const { store } = this.options;
    const known = store.listApps().map((a) => a.name);
    if (!known.includes(app)) throw appNotFound(app, known);
    const active = store.activeRollout(app);
    if (active)
      throw new CutoverError('ROLLOUT_ALREADY_ACTIVE', `app "${app}" has rollout ${active.id} ${active.phase}; scale it once that rollout ends`, {
        hint: `Follow it with: cutover status ${app}`,
      });
    const fromReplicas = replicasOf(this.options.store, app);
    setReplicas(this.options, app, replicas);
    return { app, revision: store.stableRevision(app), fromReplicas, replicas };
  }

  /**
   * Rolls back: an active rollout turns around to its old revision; otherwise a new rollout
   * goes to `toRevision`, or to the revision that was stable before the current one.
   */
  rollback(app: string, toRevision?: number): RolloutRecord {
    this.refuseWhileStopping();
    this.options.cluster.refuseIfDrivenElsewhere(app, 'roll back');
    const { store, transitions } = this.options;
    const known = store.listApps().map((a) => a.name);
    if (!known.includes(app)) throw appNotFound(app, known);
    const active = store.activeRollout(app);
    if (active && toRevision === undefined) {
      if (active.fromRevision === null) return transitions.fail(active, 'rollback requested by user; there is no earlier revision to return to');
      if (active.direction === 'back') return active;
      return transitions.turnBack(active, 'rollback requested by user');
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
    const isWarm = this.options.local.readyOf(app, target).length > 0;
    this.options.events.emit(
      app,
      rollout.id,
      'rollout-started',
      `rollout ${rollout.id}: rolling back, revision ${stable} → ${target} (${strategy}${isWarm ? ', to warm instances' : ''})`,
    );
    this.options.loop.request(app);
    return rollout;
  }

  /** A rollback runs as the strategy of the last rollout says (see `Strategy.rollbackVia`); rolling when there was none. */
  private rollbackStrategy(app: string, target: number): { strategy: StrategyName; strategySpec: StrategySpec } {
    const last = this.options.store.listRollouts(app, 1)[0];
    const spec = this.options.store.getRevision(app, target)!.spec;
    const strategySpec = last ? strategyOf(last, spec) : withDefaults(spec.strategy);
    return strategyNamed(last?.strategy ?? 'rolling').rollbackVia(strategySpec);
  }

  /**
   * `cutover promote`: the current step (or gate) counts as done; `full` skips every step left.
   * Returns once the passes it asked for ran, or at once (`wait: false`) with the promote recorded.
   */
  async promote(app: string, options: { full?: boolean; wait?: boolean } = {}): Promise<RolloutRecord> {
    const { store } = this.options;
    const rollout = this.activeForward(app, 'promote');
    const strategy = strategyOf(rollout, store.getRevision(app, rollout.toRevision)!.spec);
    const stepIndex = rollout.fromRevision === null ? null : strategyNamed(rollout.strategy).promote(rollout.stepIndex, strategy, options.full ?? false);
    if (stepIndex === null) {
      throw new CutoverError(
        'NOTHING_TO_PROMOTE',
        `rollout ${rollout.id} of "${app}" is ${rollout.fromRevision === null ? 'a first deploy' : 'rolling'}: it has no gate or step to promote`,
        {
          hint: 'It completes by itself; follow it with: cutover status',
        },
      );
    }
    // A person's promote overrules an inconclusive analysis: it is set aside, not run again here.
    this.options.analyses.supersedeInconclusive(rollout.id);
    store.updateRollout(rollout.id, { phase: 'progressing', stepIndex, stepStartedAt: Date.now(), pausedAt: null, gate: null });
    this.options.events.emit(
      app,
      rollout.id,
      'rollout-promote',
      `promote${options.full ? ' --full' : ''} requested${rollout.pausedAt !== null ? ' (and the pause lifted)' : ''}`,
    );
    if (options.wait === false) this.options.loop.request(app);
    else await this.options.loop.settle(app);
    return store.getRollout(rollout.id)!;
  }

  /** `cutover pause`: nothing advances until resume or promote; instances already starting finish. */
  pause(app: string): RolloutRecord {
    const rollout = this.activeForward(app, 'pause');
    if (rollout.pausedAt !== null) return rollout;
    const updated = this.options.store.updateRollout(rollout.id, { phase: 'paused', pausedAt: Date.now() });
    this.options.events.emit(app, rollout.id, 'rollout-paused', `rollout ${rollout.id} paused by a person; run cutover resume ${app} to go on`);
    return updated;
  }

  /** `cutover resume`: lifts a person's pause; the time paused does not count against pauses or deadlines. */
  resume(app: string): RolloutRecord {
    const { store, events } = this.options;
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
    const rerun = this.options.analyses.supersedeInconclusive(rollout.id);
    if (rerun > 0)
      events.emit(
        app,
        rollout.id,
        'analysis-rerun',
        `${rerun} inconclusive analysis run${rerun === 1 ? '' : 's'} set aside: ${rerun === 1 ? 'it runs' : 'they run'} again`,
      );
    const updated = store.updateRollout(rollout.id, {
      phase: rollout.gate ? 'paused' : 'progressing',
      pausedAt: null,
      stepStartedAt: rollout.stepStartedAt + pausedFor,
    });
    events.emit(app, rollout.id, 'rollout-resumed', `rollout ${rollout.id} resumed after ${formatMs(pausedFor)}`);
    this.options.loop.request(app);
    return updated;
  }

  /**
   * `cutover abort`: all traffic back to the stable revision at once; resolves once the proxy
   * serves that plan. The new instances stay up, out of traffic, for the abort delay.
   */
  async abort(app: string): Promise<RolloutRecord> {
    const { store, events, loop } = this.options;
    // No reconcile pass may push a plan between ours and the record of the abort.
    const rollout = await loop.hold(app, async () => {
      const active = this.activeForward(app, 'abort');
      const strategy = strategyOf(active, store.getRevision(app, active.toRevision)!.spec);
      const delayMs = strategyNamed(active.strategy).abortScaleDownDelayMs(strategy);
      const keepsWarm = delayMs > 0 && active.fromRevision !== null;
      // Traffic first, then the record: whoever reads an aborted rollout sees its revision out of
      // traffic. A crash in between leaves the rollout active, and the abort is simply not done.
      if (keepsWarm) await this.pushStableOnly(app, active.fromRevision!);
      store.updateRollout(active.id, {
        phase: 'aborted',
        reason: 'aborted by a person',
        step: `aborted; revision ${active.fromRevision ?? '-'} serves`,
        warmRevision: keepsWarm ? active.toRevision : null,
        warmUntil: keepsWarm ? Date.now() + delayMs : null,
      });
      this.options.rolloutFailures.delete(active.id);
      const kept = keepsWarm ? `; revision ${active.toRevision} stays up out of traffic for ${formatMs(delayMs)}` : '';
      events.emit(
        app,
        active.id,
        'rollout-aborted',
        `rollout ${active.id} aborted by a person: revision ${active.fromRevision ?? '-'} takes all traffic${kept}`,
      );
      return active;
    });
    await loop.settle(app);
    const lastPlanError = this.options.traffic.lastError(app);
    if (lastPlanError) {
      throw new CutoverError('TRAFFIC_PENDING', `rollout ${rollout.id} is aborted, but the proxy has not applied the plan yet: ${lastPlanError}`, {
        hint: 'cutover retries by itself; check with: cutover status',
      });
    }
    return store.getRollout(rollout.id)!;
  }

  /** The plan the steady state will want after an abort: the stable revision's ready instances, equal shares. */
  private async pushStableOnly(app: string, stable: number): Promise<void> {
    const serving = this.options.local.readyOf(app, stable);
    if (serving.length === 0) return; // Nothing to move traffic to yet; the reconcile after the record does it.
    const error = await this.options.traffic.push(app, this.options.store.getRevision(app, stable)!.spec, EQUAL_SHARES, serving);
    if (error)
      throw new CutoverError('TRAFFIC_PENDING', `the proxy could not move the traffic back to revision ${stable}: ${error}`, {
        hint: 'The rollout is not aborted; try again.',
      });
  }

  private activeForward(app: string, verb: string): RolloutRecord {
    this.options.cluster.refuseIfDrivenElsewhere(app, verb);
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

  private previousStable(app: string, stable: number): number | null {
    const promoted = this.options.store
      .listRollouts(app, 100)
      .filter((r) => (r.phase === 'promoted' || (r.phase === 'rolled-back' && r.direction === 'forward')) && r.toRevision !== stable);
    return promoted[0]?.toRevision ?? (stable > 1 ? stable - 1 : null);
  }

  private refuseWhileStopping(): void {
    if (this.options.loop.isStopping)
      throw new CutoverError('DAEMON_STOPPING', 'the daemon is stopping', { hint: 'Start it again with cutover up, then retry.' });
  }
}
