import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventSink } from '../../model/event-kinds.js';
import { receivedErrorCode } from '../../error-catalog.js';
import { CutoverError } from '../../errors.js';
import type { AppSpec } from '../../model/app-spec.js';
import type { Store } from '../../store/store.js';
import type { RolloutRecord } from '../../model/records.js';
import { clusterStateOf } from './cluster-state.js';
import type { ClusterCommand, CommandOutcome } from './kubernetes-command-queue.js';
import { COMMAND_KEPT_MS, DEFAULT_LEASE_DURATION_SECONDS } from './cluster-timing.js';
import { kubernetesBackend, loadKubernetesSupport, needsKubernetes } from './kubernetes-support.js';
import { leaseHolderFor, type RevisionBackend, type RevisionBackendFactory } from './revision-backend.js';

/** While another cutover holds a cluster app's Lease, its state is read this often, for status and history. */
const CLUSTER_STATE_READ_EVERY_MS = 2_000;
/** How long a command sent to the cutover that drives a cluster app waits for its answer. */
export const COMMAND_ANSWER_WAIT_MS = 15_000;

export interface ClusterCoordinatorOptions {
  store: Store;
  dataDir: string;
  events: EventSink;
  now: () => number;
  log: (line: string) => void;
  revisionBackend?: RevisionBackendFactory;
  /** Ends a rollout that cannot go on here (started while another cutover held the Lease). */
  failRollout: (rollout: RolloutRecord, reason: string) => void;
  /** Runs an operator command sent by another cutover, as if given here; resolves once its pass is applied. */
  runCommand: (app: string, command: ClusterCommand) => Promise<RolloutRecord>;
  isShuttingDown: () => boolean;
}

interface AppCoordination {
  /** Who else holds the app's Lease, or null. */
  leaseHolder: string | null;
  /** Taken from the cluster since this controller last held the Lease: from now on it writes it. */
  isTaken: boolean;
  /** The state last written (JSON), so that only changes are written. */
  lastWritten: string | null;
  /** The serial of the state last read while another cutover held the Lease, and when. */
  seenSerial: number;
  readAtMs: number;
  /** The holder is running commands other cutovers sent (one pass at a time). */
  isServingCommands: boolean;
}

/**
 * Everything about driving a cluster app from one of several cutovers: its Lease (one driver at
 * a time), its state in a ConfigMap (so any machine can take it over), and commands sent through
 * the cluster to the cutover that drives it.
 */
export class ClusterCoordinator {
  /** Revision backends of cluster apps, with the spec part they were made from. */
  private readonly backends = new Map<string, { key: string; backend: RevisionBackend | null }>();
  private readonly apps = new Map<string, AppCoordination>();

  constructor(private readonly options: ClusterCoordinatorOptions) {}

  /** The revision backend of an app whose latest spec runs on a cluster, made once per context, namespace and router. */
  backendOf(app: string, newSpec?: AppSpec): RevisionBackend | null {
    const spec = newSpec ?? this.options.store.latestRevision(app)?.spec;
    if (spec?.runtime?.kind !== 'kubernetes') return null;
    const key = JSON.stringify([spec.runtime.context, spec.runtime.namespace, spec.runtime.port, spec.router]);
    const known = this.backends.get(app);
    if (known?.key === key) return known.backend;
    const factory: RevisionBackendFactory =
      this.options.revisionBackend ?? ((appSpec, onNotice) => kubernetesBackend(appSpec, onNotice, { holder: leaseHolderFor(this.options.dataDir) }));
    const backend = factory(spec, (message) => this.options.log(message));
    this.backends.set(app, { key, backend });
    return backend;
  }

  /** Loads the Kubernetes client when one of these specs (or a stored app's) runs on a cluster and no other backend was given. */
  async prepare(specs: readonly (AppSpec | undefined)[]): Promise<void> {
    if (!this.options.revisionBackend && needsKubernetes(specs)) await loadKubernetesSupport();
  }

  /** Who else drives the app (holds its Lease), or null. */
  holderOf(app: string): string | null {
    return this.apps.get(app)?.leaseHolder ?? null;
  }

  /**
   * A cluster app may be driven from here: without a Lease (a local app) always; otherwise once
   * its Lease is taken or renewed, recording where its rollout stands on it. On taking it, the
   * app's state comes from the cluster first (another machine may have driven it meanwhile). Held
   * by another cutover: this one drives nothing, shows the state that one writes, and a rollout
   * started here fails with who holds the app.
   */
  async mayDrive(app: string): Promise<boolean> {
    const backend = this.backendOf(app);
    if (!backend?.lease) return true;
    const { store } = this.options;
    const state = this.coordinationOf(app);
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
    const lease = await backend.lease.hold(summary);
    if (lease.isHeld) {
      if (!state.isTaken) {
        await this.takeState(app, backend, 'takeover');
        state.isTaken = true;
        state.lastWritten = null;
      }
      state.leaseHolder = null;
      return true;
    }
    state.isTaken = false;
    if (this.options.now() - state.readAtMs >= CLUSTER_STATE_READ_EVERY_MS) {
      state.readAtMs = this.options.now();
      state.seenSerial = await this.takeState(app, backend, 'mirror', state.seenSerial);
    }
    const why = `another cutover drives app "${app}" on the cluster: Lease ${backend.lease.name} is held by ${lease.holder} until ${lease.expiresAt.toISOString()}`;
    const rollout = store.activeRollout(app);
    if (rollout && this.isUnknownToCluster(app, rollout.id)) this.options.failRollout(rollout, `${why}; nothing was changed`);
    else if (state.leaseHolder !== lease.holder) this.options.log(`${why}; waiting for it`);
    state.leaseHolder = lease.holder;
    return false;
  }

  /**
   * Brings the app's state from the cluster into the store, when another cutover wrote it (or
   * this store knows nothing of the app); returns the serial read. `mirror` (Lease held
   * elsewhere) reads only a serial not seen yet.
   */
  private async takeState(app: string, backend: RevisionBackend, why: 'takeover' | 'mirror' | 'deploy', seenSerial = -1): Promise<number> {
    const { store, events } = this.options;
    const found = await backend.state?.read();
    if (!found || found.serial === seenSerial) return found?.serial ?? seenSerial;
    if (found.writtenBy === backend.lease?.holder && store.latestRevision(app) !== null) return found.serial; // Ours: the store is as new or newer.
    const taken = store.importClusterState(found.state);
    for (const { rolloutId, reason } of taken.superseded) events.emit(app, rolloutId, 'rollout-failed', `rollout ${rolloutId} failed: ${reason}`);
    if (taken.revisions + taken.rollouts > 0) {
      const what = `${taken.revisions} revision${taken.revisions === 1 ? '' : 's'} and ${taken.rollouts} rollout${taken.rollouts === 1 ? '' : 's'}`;
      const verb = why === 'mirror' ? 'read' : 'taken';
      events.emitForApp(
        app,
        'cluster-state',
        `state ${verb} from the cluster (ConfigMap ${backend.state!.name}, written by ${found.writtenBy}): ${what} new or changed`,
      );
    }
    return found.serial;
  }

  /** While this cutover holds a cluster app's Lease, the app's state goes to the cluster after every pass that changed it. */
  async writeState(app: string): Promise<void> {
    const backend = this.backendOf(app);
    const state = this.apps.get(app);
    if (!backend?.state || !backend.lease || !state?.isTaken) return;
    const holder = backend.lease.holder;
    // Keys say who started a rollout, and stay unique if a data dir is ever started afresh.
    const snapshot = clusterStateOf(this.options.store, app, () => `${holder}#${randomBytes(4).toString('hex')}`);
    const json = JSON.stringify(snapshot);
    if (json === state.lastWritten) return;
    await backend.state.write(snapshot, holder);
    state.lastWritten = json;
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
   * `onClusterApp` hears of each cluster app among them before its state is read.
   */
  async takeStates(specs: readonly AppSpec[], onClusterApp: (app: string) => void): Promise<void> {
    await this.prepare(specs);
    for (const spec of specs) {
      const backend = this.backendOf(spec.name, spec);
      if (!backend?.state) continue;
      onClusterApp(spec.name);
      // A cutover that holds the Lease writes the state itself: nothing newer is there to take.
      if (!this.coordinationOf(spec.name).isTaken) await this.takeState(spec.name, backend, 'deploy');
    }
  }

  /** A cluster app whose Lease another cutover holds: commands for it go there (`forward`). */
  isDrivenElsewhere(app: string): boolean {
    return Boolean(this.holderOf(app)) && Boolean(this.backendOf(app)?.commands);
  }

  /**
   * Sends a command for a cluster app to the cutover that drives it (through the cluster) and
   * waits for its answer: the rollout as that cutover left it, taken from the cluster's state,
   * or that cutover's refusal as the same error it would have raised here.
   */
  async forward(app: string, command: ClusterCommand): Promise<RolloutRecord> {
    const backend = this.backendOf(app);
    const holder = this.holderOf(app);
    if (!backend?.commands || !backend.lease || !holder)
      throw new CutoverError('NO_ACTIVE_ROLLOUT', `app "${app}" is not driven by another cutover`, { hint: `Run it again: cutover ${command.verb} ${app}` });
    const id = await backend.commands.send(command, backend.lease.holder);
    const deadline = this.options.now() + COMMAND_ANSWER_WAIT_MS;
    for (;;) {
      const answer = await backend.commands.answerOf(id);
      if (answer?.state === 'done') {
        await backend.commands.forget([id]);
        if (answer.code !== 'OK')
          throw new CutoverError(
            receivedErrorCode(answer.code),
            `${answer.message} (answered by ${holder}, which drives the app)`,
            answer.hint === undefined ? {} : { hint: answer.hint },
          );
        // The holder wrote its state before it answered: show the command's effect here at once.
        this.coordinationOf(app).seenSerial = await this.takeState(app, backend, 'mirror');
        const { store } = this.options;
        return store.activeRollout(app) ?? store.listRollouts(app, 1)[0]!;
      }
      if (this.options.now() > deadline) {
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
  async serveCommands(app: string): Promise<void> {
    const state = this.apps.get(app);
    // Only a cluster app has coordination state: a local app costs no read of its spec here.
    if (!state) return;
    const backend = this.backendOf(app);
    if (!backend?.commands || !state.isTaken || state.isServingCommands || this.options.isShuttingDown()) return;
    state.isServingCommands = true;
    try {
      const queued = await backend.commands.list();
      const stale = queued.filter((c) => Date.now() - c.at > COMMAND_KEPT_MS);
      await backend.commands.forget(stale.map((c) => c.id));
      for (const command of queued.filter((c) => c.answer === null && !stale.includes(c))) {
        await backend.commands.answer(command, { state: 'taken' });
        const answer = await this.outcomeOf(app, command.command);
        this.options.events.emitForApp(
          app,
          'cluster-command',
          `${command.command.verb} sent by ${command.by}: ${answer.code === 'OK' ? answer.message : `refused (${answer.code}): ${answer.message}`}`,
        );
        await backend.commands.answer(command, answer);
      }
    } catch (error) {
      if (!(error instanceof CutoverError)) throw error;
      this.options.log(`commands for ${app} from other cutovers wait: ${error.message}`);
    } finally {
      state.isServingCommands = false;
    }
  }

  private async outcomeOf(app: string, command: ClusterCommand): Promise<CommandOutcome> {
    try {
      const now = await this.options.runCommand(app, command);
      return { state: 'done', code: 'OK', message: `rollout ${now.id} ${now.phase}: ${now.step}` };
    } catch (error) {
      if (!(error instanceof CutoverError)) throw error;
      return { state: 'done', code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
    }
  }

  /** Commands on a cluster app another cutover drives would change nothing there: refused, naming that cutover. */
  refuseIfDrivenElsewhere(app: string, verb: string): void {
    const holder = this.holderOf(app);
    if (!holder) return;
    throw new CutoverError('APP_DRIVEN_ELSEWHERE', `app "${app}" is driven by another cutover (${holder}) on the cluster: cannot ${verb} it from here`, {
      hint: `Run the command where that cutover runs, or stop it there (cutover down): its Lease runs out within ${DEFAULT_LEASE_DURATION_SECONDS} s and this cutover takes the app over where the cluster's state says it stands.`,
    });
  }

  /** At shutdown: the state goes to the cluster once more, then the Leases go, so another cutover may drive the apps at once. */
  async letGo(apps: readonly string[]): Promise<void> {
    await Promise.all(
      apps.map((app) =>
        this.writeState(app).catch((error: unknown) => this.options.log(`writing the state of ${app} to the cluster failed: ${(error as Error).message}`)),
      ),
    );
    await Promise.all(
      [...this.backends.values()].map(({ backend }) =>
        backend?.lease?.release().catch((error: unknown) => this.options.log(`releasing ${backend.lease!.name} failed: ${(error as Error).message}`)),
      ),
    );
  }

  private coordinationOf(app: string): AppCoordination {
    let state = this.apps.get(app);
    if (!state) {
      state = { leaseHolder: null, isTaken: false, lastWritten: null, seenSerial: -1, readAtMs: -Infinity, isServingCommands: false };
      this.apps.set(app, state);
    }
    return state;
  }
}
