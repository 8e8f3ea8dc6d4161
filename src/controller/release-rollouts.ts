import path from 'node:path';
import type { AppSpec, HooksSpec } from '../model/app-spec.js';
import type { EventSink } from '../model/event-kinds.js';
import type { ReleaseRecord, RevisionRecord, RolloutRecord } from '../model/records.js';
import { isTerminalPhase } from '../model/rollout.js';
import { buildRelease } from '../releases/build-release.js';
import { sealRelease } from '../releases/materialize-release.js';
import { planPrune } from '../releases/prune-plan.js';
import { ReleaseSnapshots, type StagedRelease } from '../releases/release-snapshots.js';
import type { ReleaseSourceRequest } from '../releases/release-source.js';
import { inheritedEnv } from '../runtime/local/instance-env.js';
import { killOrphanCommand } from '../runtime/local/run-command.js';
import type { Store } from '../store/store.js';
import type { ReleaseListing, ReleasesReport, ReleaseUse } from '../protocol/releases.js';

export interface ReleaseRolloutsOptions {
  store: Store;
  dataDir: string;
  events: EventSink;
  failRollout: (rollout: RolloutRecord, reason: string) => void;
  requestReconcile: (app: string) => void;
  /** Revisions with a live instance (starting, ready, draining), by app. */
  liveRevisions: (app: string) => ReadonlySet<number>;
  log: (line: string) => void;
}

/** A build in progress, kept in its release record so a later controller can kill it. */
type BuildingRelease = ReleaseRecord & { buildPid?: number | null; buildIdentity?: string | null };

/**
 * The releases of rollouts: taken before a deploy decides anything (so an unchanged tree makes no
 * revision), given their revision's name, built before anything else of the rollout, pruned
 * after. The rollout pass waits while `isBuilding`; a failed build fails the rollout.
 */
export class ReleaseRollouts {
  readonly snapshots: ReleaseSnapshots;
  private readonly running = new Set<string>();
  /** Apps whose releases may be prunable: marked by a deploy and at start, looked at once no rollout runs. */
  private readonly toPrune = new Set<string>();

  constructor(private readonly options: ReleaseRolloutsOptions) {
    this.snapshots = new ReleaseSnapshots(options.dataDir);
  }

  /** Takes the release of every spec that has one: hashed, and copied under a temporary name when new. */
  async stage(specs: readonly AppSpec[], source: ReleaseSourceRequest | null): Promise<Map<string, StagedRelease>> {
    const staged = new Map<string, StagedRelease>();
    try {
      for (const spec of specs) {
        if (spec.release === undefined) continue;
        const latest = this.options.store.latestRevision(spec.name)?.release ?? null;
        this.toPrune.add(spec.name);
        staged.set(spec.name, await this.snapshots.stage(spec, source, latest));
      }
    } catch (error) {
      await this.discard(staged);
      throw error;
    }
    return staged;
  }

  /** Removes staged copies a deploy did not use (unchanged apps, or a refused deploy). */
  async discard(staged: ReadonlyMap<string, StagedRelease>, used: ReadonlySet<string> = new Set()): Promise<void> {
    for (const release of staged.values()) if (!used.has(release.app)) await this.snapshots.discard(release);
  }

  /**
   * Gives a staged copy its revision's name and returns its record and the spec the revision
   * stores: `run.cwd` and the command hooks moved into the release directory.
   */
  adopt(spec: AppSpec, staged: StagedRelease, revision: number): { spec: AppSpec; release: ReleaseRecord } {
    const dir = this.snapshots.promote(staged, revision);
    const release: ReleaseRecord = {
      hash: staged.hash,
      source: staged.source,
      sourceKind: staged.sourceKind,
      commit: staged.commit,
      dir,
      bytes: staged.bytes,
      copiedBytes: staged.copiedBytes,
      buildMs: null,
      state: spec.release!.build.length > 0 ? 'building' : 'ready',
    };
    if (release.state === 'ready') void sealRelease(dir).catch((error: Error) => this.options.log(`could not seal ${dir}: ${error.message}`));
    return { spec: inRelease(spec, dir), release };
  }

  /** True while the release of a forward rollout's new revision is not built yet: nothing else of the rollout may happen. */
  isBuilding(rollout: RolloutRecord): boolean {
    if (rollout.direction !== 'forward') return false;
    return this.options.store.getRevision(rollout.app, rollout.toRevision)?.release?.state === 'building';
  }

  /** Runs a revision's build beside the loop; its end wakes the loop (or fails the rollout). */
  startBuild(revision: RevisionRecord, rolloutId: number): void {
    const key = `${revision.app}:${revision.number}`;
    const release = revision.release;
    if (!release || release.state !== 'building' || this.running.has(key)) return;
    this.running.add(key);
    const { store, events } = this.options;
    const spec = revision.spec;
    const logPath = path.join(this.options.dataDir, 'logs', revision.app, `release-${revision.number}-build.log`);
    events.emit(
      revision.app,
      rolloutId,
      'release-build-started',
      `building release ${release.hash.slice(0, 12)} of revision ${revision.number} (log: ${logPath})`,
    );
    const env = {
      ...inheritedEnv(process.env, spec.run.inheritEnv),
      ...spec.run.env,
      CUTOVER_APP: revision.app,
      CUTOVER_REVISION: String(revision.number),
      CUTOVER_RELEASE_DIR: release.dir,
    };
    void buildRelease({
      dir: release.dir,
      steps: spec.release!.build,
      env,
      logPath,
      onLine: (line) => events.emit(revision.app, rolloutId, 'release-build-output', line),
      onStarted: (pid, identity) => store.setRelease(revision.app, revision.number, { ...release, buildPid: pid, buildIdentity: identity } as BuildingRelease),
    })
      .then(async (outcome) => {
        const buildMs = Math.round(outcome.durationMs);
        if (outcome.isOk) {
          await sealRelease(release.dir);
          store.setRelease(revision.app, revision.number, { ...release, state: 'ready', buildMs });
          events.emit(revision.app, rolloutId, 'release-built', `release of revision ${revision.number} built in ${(buildMs / 1000).toFixed(1)}s`);
        } else {
          await this.snapshots.remove(release.dir);
          store.setRelease(revision.app, revision.number, { ...release, state: 'failed', buildMs });
          events.emit(revision.app, rolloutId, 'release-build-failed', outcome.reason);
          const rollout = store.getRollout(rolloutId);
          if (rollout && !isTerminalPhase(rollout.phase) && rollout.direction === 'forward') this.options.failRollout(rollout, outcome.reason);
        }
      })
      .catch((error: Error) => this.options.log(`build of ${key} could not finish: ${error.message}`))
      .finally(() => {
        this.running.delete(key);
        this.options.requestReconcile(revision.app);
      });
  }

  /**
   * At controller start: a build an earlier controller ran is killed and its release removed (its
   * rollout fails: the build is not known to be safe to run twice); copies under temporary names
   * and directories no revision names are removed.
   */
  async recover(): Promise<void> {
    const { store } = this.options;
    const known = new Set<string>();
    for (const { name } of store.listApps()) {
      for (const revision of store.listRevisions(name)) {
        const release = revision.release as BuildingRelease | null | undefined;
        if (!release) continue;
        if (release.state === 'building') {
          if (release.buildPid) killOrphanCommand(release.buildPid, release.buildIdentity ?? null);
          await this.snapshots.remove(release.dir);
          store.setRelease(name, revision.number, { ...release, state: 'failed', buildPid: null, buildIdentity: null } as BuildingRelease);
          const reason = `the controller restarted while the release of revision ${revision.number} was building; deploy again to build it anew`;
          const rollout = store.activeRollout(name);
          if (rollout && rollout.toRevision === revision.number && rollout.direction === 'forward') this.options.failRollout(rollout, reason);
          this.options.events.emit(name, rollout?.id ?? null, 'release-build-failed', reason);
        } else if (release.state === 'ready') known.add(release.dir);
      }
      this.toPrune.add(name);
    }
    for (const removed of await this.snapshots.cleanLeftovers(known)) this.options.log(`removed ${removed}, left by an interrupted release`);
  }

  /** Revisions whose release must stay: stable, warm, both ends of a running rollout, any live instance's. */
  inUse(app: string): Set<number> {
    const { store } = this.options;
    const used = new Set<number>(this.options.liveRevisions(app));
    const stable = store.stableRevision(app);
    if (stable !== null) used.add(stable);
    const active = store.activeRollout(app);
    if (active) {
      used.add(active.toRevision);
      if (active.fromRevision !== null) used.add(active.fromRevision);
    }
    const last = store.listRollouts(app, 1)[0];
    if (last?.warmRevision != null && (last.warmUntil ?? 0) > Date.now()) used.add(last.warmRevision);
    return used;
  }

  /** `cutover releases APP`: every revision with a release, newest first, and what it is used for. */
  async list(app: string): Promise<ReleasesReport> {
    const { store } = this.options;
    const inUse = this.inUse(app);
    const stable = store.stableRevision(app);
    const active = store.activeRollout(app);
    const serving = new Set([stable, active?.toRevision].filter((n): n is number => n != null));
    const releases: ReleaseListing[] = store
      .listRevisions(app)
      .filter((r) => r.release)
      .reverse()
      .map((r) => {
        const release = r.release!;
        const use: ReleaseUse = release.state !== 'ready' ? release.state : serving.has(r.number) ? 'serving' : inUse.has(r.number) ? 'warm' : 'kept';
        return {
          revision: r.number,
          hash: release.hash,
          source: release.source,
          commit: release.commit,
          bytes: release.bytes,
          copiedBytes: release.copiedBytes,
          createdAt: r.createdAt,
          buildMs: release.buildMs,
          use,
        };
      });
    return { app, releases, diskBytes: await this.snapshots.diskBytes(app) };
  }

  /**
   * From the reconcile pass, when no rollout runs: prunes an app a deploy marked, once only its
   * stable revision still has instances (a rollout's old ones are gone).
   */
  pruneWhenSettled(app: string): void {
    if (!this.toPrune.has(app)) return;
    const stable = this.options.store.stableRevision(app);
    if ([...this.options.liveRevisions(app)].some((revision) => revision !== stable)) return;
    this.toPrune.delete(app);
    void this.prune(app).catch((error: Error) => this.options.log(`pruning releases of ${app}: ${error.message}`));
  }

  /** Removes releases beyond `keep` that nothing uses. */
  async prune(app: string): Promise<void> {
    const { store } = this.options;
    const revisions = store.listRevisions(app).filter((r) => r.release?.state === 'ready');
    const keep = store.latestRevision(app)?.spec.release?.keep;
    if (keep === undefined || revisions.length === 0) return;
    const doomed = new Set(planPrune({ releases: revisions.map((r) => ({ revision: r.number, createdAt: r.createdAt })), inUse: this.inUse(app), keep }));
    for (const revision of revisions) {
      if (!doomed.has(revision.number) || this.inUse(app).has(revision.number)) continue;
      store.setRelease(app, revision.number, { ...revision.release!, state: 'pruned' });
      await this.snapshots.remove(revision.release!.dir);
      this.options.events.emit(app, null, 'release-pruned', `release of revision ${revision.number} removed (keep: ${keep})`);
    }
  }
}

/**
 * The spec a revision with a release stores: its working directory, and that of command hooks
 * under `release.from`, moved into the release; preDeploy hooks run in the release whatever
 * their cwd, so a migration runs the new code.
 */
export function inRelease(spec: AppSpec, dir: string): AppSpec {
  const from = spec.release!.from;
  const move = (cwd: string): string | null => {
    const relative = path.relative(from, cwd);
    return relative.startsWith('..') || path.isAbsolute(relative) ? null : path.join(dir, relative);
  };
  const hooks = spec.hooks
    ? (Object.fromEntries(
        Object.entries(spec.hooks).map(([point, list]) => [
          point,
          list.map((hook) => {
            if (hook.action.kind !== 'command') return hook;
            const cwd = move(hook.action.cwd) ?? (point === 'preDeploy' ? dir : hook.action.cwd);
            return { ...hook, action: { ...hook.action, cwd } };
          }),
        ]),
      ) as HooksSpec)
    : undefined;
  return { ...spec, run: { ...spec.run, cwd: move(spec.run.cwd) ?? dir }, release: { ...spec.release!, from: dir }, ...(hooks ? { hooks } : {}) };
}
