import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServingInstance } from '../../model/traffic-plan.js';
import type { EventSink } from '../../model/event-kinds.js';
import type { AppSpec } from '../../model/app-spec.js';
import type { TrafficRouter } from '../../router/traffic-router.js';
import type { Runtime, StartedInstance } from '../../runtime/runtime.js';
import type { Store } from '../../store/store.js';
import type { InstanceRecord } from '../../model/records.js';
import { formatMs } from '../../util/format-ms.js';
import type { Fleet, ObservedFleet } from '../fleet.js';
import { HealthMonitor } from './health-monitor.js';
import { lastLogLine } from './last-log-line.js';
import { isLive, type ManagedInstance } from './managed-instance.js';
import { RestartBackoff } from './restart-backoff.js';
import { StartGate } from './start-gate.js';

const DRAIN_POLL_MS = 20;
/** How much longer than the drain timeout a stop waits for the proxy to confirm the instance left. */
const PLAN_CONFIRM_GRACE_MS = 60_000;
/** An instance ready this long proves the revision can run; the restart backoff starts over. */
const STABLE_UPTIME_MS = 10_000;
/** Time the proxy gives a WebSocket client to answer its close frame, and a little more. */
const LONG_LIVED_GOODBYE_MS = 2_500;

export interface LocalFleetOptions {
  store: Store;
  runtime: Runtime;
  /** Counts the requests in flight per instance, for draining. */
  router: TrafficRouter;
  dataDir: string;
  now: () => number;
  log: (line: string) => void;
  events: EventSink;
  guard: (action: () => void | Promise<void>) => void;
  /** First failure of an instance started by a rollout, by rollout id: the next pass judges the rollout. */
  rolloutFailures: Map<number, string>;
  requestReconcile: (app: string) => void;
  /** The router confirmed a plan without the instance (rule 2: out of traffic before it stops). */
  isOutOfPlan: (app: string, instanceId: string) => boolean;
  isShuttingDown: () => boolean;
  /** Admits starts a few at a time (default: a few per core). */
  startGate?: StartGate;
}

/**
 * The instances this controller runs as local processes: started, health-checked, failed when
 * they exit unasked, and stopped by rule 2 (out of the plan, drained, SIGTERM, SIGKILL).
 */
export class LocalFleet implements Fleet {
  private readonly instances = new Map<string, ManagedInstance>();
  private readonly pendingStops = new Set<Promise<void>>();
  private readonly backoffs = new Map<string, RestartBackoff>();
  private readonly health: HealthMonitor;
  private readonly startGate: StartGate;
  /** Slots of the start gate held by instances not yet ready, by instance id. */
  private readonly startSlots = new Map<string, () => void>();

  constructor(private readonly options: LocalFleetOptions) {
    this.startGate = options.startGate ?? new StartGate();
    this.health = new HealthMonitor({
      now: options.now,
      guard: options.guard,
      isLastReady: (instance) => !this.live(instance.record.app).some((i) => i !== instance && i.record.state === 'ready'),
      markReady: (instance) => this.markReady(instance),
      fail: (instance, reason) => this.fail(instance, reason),
      warnLastReady: (instance, detail) => {
        const { app, id } = instance.record;
        this.options.events.emitForApp(
          app,
          'instance-unhealthy',
          `${id} fails its health checks (GET ${instance.spec.health.path}: ${detail}) but is the last ready instance: it stays in traffic`,
        );
      },
    });
  }

  async observe(app: string, nowMs: number): Promise<ObservedFleet> {
    const live = this.live(app);
    return {
      instances: live.map((i) => ({ id: i.record.id, revision: i.record.revision, state: i.record.state, readyAtMs: i.readyAtMs, rolloutId: i.rolloutId })),
      serving: (leavingIds, warm) =>
        live.filter((i) => i.record.state === 'ready' && !leavingIds.includes(i.record.id) && i.record.revision !== warm).map(servingOf),
      beginStops: (ids, why) => {
        for (const id of ids) this.beginStop(this.instances.get(id)!, why);
      },
      applySizes: async (starts, _stopIds, startedBy) => {
        const backoff = this.backoffOf(app);
        for (const { revision, count } of starts) {
          if (live.some((i) => i.record.revision === revision && i.readyAtMs !== null && nowMs - i.readyAtMs >= STABLE_UPTIME_MS)) backoff.reset(revision);
          if (!backoff.canStart(revision, nowMs)) continue;
          const spec = this.options.store.getRevision(app, revision)!.spec;
          for (let n = 0; n < count; n++) await this.start(spec, revision, startedBy(revision));
        }
      },
      stopEverything: async () => {
        for (const instance of live) this.beginStop(instance, 'no revision of the app should run');
      },
      isDraining: () => [...this.instances.values()].some((i) => i.record.app === app && i.isStopping && i.record.state === 'draining'),
    };
  }

  /** The app's instances that run and are not on their way out. */
  live(app: string): ManagedInstance[] {
    return [...this.instances.values()].filter((i) => i.record.app === app && isLive(i.record.state) && !i.isStopping);
  }

  /** A live instance's last health check answer (for status), or null for one this fleet does not check. */
  lastCheckOf(id: string): string | null {
    const instance = this.instances.get(id);
    return instance && isLive(instance.record.state) && !instance.isStopping ? instance.lastProbe : null;
  }

  /** Ready instances of a revision, with their addresses. */
  readyOf(app: string, revision: number): ServingInstance[] {
    return this.live(app)
      .filter((i) => i.record.revision === revision && i.record.state === 'ready')
      .map(servingOf);
  }

  /** Writes every instance record as it stands in memory (after the disk refused writes). */
  persistAll(): void {
    for (const instance of this.instances.values()) this.options.store.upsertInstance(instance.record);
  }

  /** Stops every instance (the daemon goes down) and waits for every stop under way. */
  async stopAll(why: string): Promise<void> {
    const stops = [...this.instances.values()].filter((i) => i.record.state !== 'stopped' && i.record.state !== 'failed').map((i) => this.stop(i, why));
    await Promise.all([...stops, ...this.pendingStops]);
  }

  /** Starts an instance once the start gate has a slot for it, which it holds until it is ready or gone. */
  private async start(spec: AppSpec, revision: number, rolloutId: number | null): Promise<void> {
    const leave = await this.startGate.enter();
    if (this.options.isShuttingDown()) return leave();
    const id = `${spec.name}-${revision}-${randomBytes(3).toString('hex')}`;
    this.startSlots.set(id, leave);
    try {
      await this.startHoldingSlot(id, spec, revision, rolloutId);
    } catch (error) {
      this.leaveStartSlot(id);
      throw error;
    }
  }

  private leaveStartSlot(id: string): void {
    this.startSlots.get(id)?.();
    this.startSlots.delete(id);
  }

  /**
   * Records the instance before its process exists, then starts it and records its pid: a crash
   * in between leaves a record without a pid, which the next controller uses to find and stop
   * the process (see `adoptLeftovers`). A failed write starts nothing.
   */
  private async startHoldingSlot(id: string, spec: AppSpec, revision: number, rolloutId: number | null): Promise<void> {
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
    const container = spec.runtime?.kind === 'container' ? spec.runtime : undefined;
    const started = await this.options.runtime.start({ app: spec.name, revision, instanceId: id, run: spec.run, logPath, ...(container ? { container } : {}) });
    const record: InstanceRecord = { ...planned, pid: started.pid, identity: started.identity, port: started.port };
    try {
      this.manage(record, started, spec, rolloutId, { startedAtMs: this.options.now(), readyAtMs: null });
    } catch (error) {
      // Its pid is not on record: no later controller could find it. It goes now.
      if (started.pid !== null || started.identity !== null) await this.options.runtime.stop(started.pid ?? 0, 0, started.identity);
      this.instances.delete(id);
      throw error;
    }
    this.options.events.emitForApp(spec.name, 'instance-starting', `${id} starting (revision ${revision}, pid ${started.pid ?? '-'}, port ${started.port})`);
  }

  /** Keeps an instance from now on: persisted, health-checked, and failed when it exits unasked. */
  manage(
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
      isStopping: false,
    };
    this.instances.set(record.id, instance);
    this.options.store.upsertInstance(record);
    void started.exited.then((exit) =>
      this.options.guard(() => {
        if (instance.isStopping) return;
        const uptime = formatMs(this.options.now() - instance.startedAtMs);
        const how = exit.spawnError ?? (exit.signal ? `was killed by ${exit.signal}` : exit.code === null ? 'exited' : `exited with code ${exit.code}`);
        const output = exit.spawnError ? null : lastLogLine(instance.record.logPath);
        const said = output ? `; its last output: ${JSON.stringify(output)}` : '';
        const reason =
          instance.record.state === 'ready'
            ? `crashed: ${how} after ${uptime}${said}`
            : exit.spawnError
              ? how
              : `${how} ${uptime} after start, before becoming ready${said}`;
        this.fail(instance, reason);
      }),
    );
    this.health.watch(instance);
    return instance;
  }

  private markReady(instance: ManagedInstance): void {
    this.leaveStartSlot(instance.record.id);
    instance.readyAtMs = this.options.now();
    instance.record = { ...instance.record, state: 'ready', readyAt: Date.now() };
    this.options.store.upsertInstance(instance.record);
    this.options.events.emitForApp(
      instance.record.app,
      'instance-ready',
      `${instance.record.id} ready after ${formatMs(instance.readyAtMs - instance.startedAtMs)}`,
    );
    this.options.requestReconcile(instance.record.app);
  }

  fail(instance: ManagedInstance, reason: string): void {
    if (instance.record.state === 'failed' || instance.record.state === 'stopped') return;
    const app = instance.record.app;
    const failures = this.options.rolloutFailures;
    instance.record = { ...instance.record, state: 'failed', reason };
    if (instance.rolloutId !== null && !failures.has(instance.rolloutId)) failures.set(instance.rolloutId, `instance ${instance.record.id} ${reason}`);
    this.backoffOf(app).recordFailure(instance.record.revision, this.options.now());
    // Out of traffic first (the reconcile pushes a plan without it), then make sure it is gone;
    // that goes on even when the record below cannot be written (disk full).
    this.options.requestReconcile(app);
    this.beginStop(instance, reason, { keepState: true });
    this.options.store.upsertInstance(instance.record);
    this.options.events.emitForApp(app, 'instance-failed', `${instance.record.id} failed: ${reason}`);
  }

  beginStop(instance: ManagedInstance, why: string, options: { keepState?: boolean } = {}): void {
    if (instance.isStopping) return;
    const stop = this.stop(instance, why, options).catch((error: unknown) => this.options.log(`stopping ${instance.record.id} failed: ${String(error)}`));
    this.pendingStops.add(stop);
    void stop.finally(() => this.pendingStops.delete(stop));
  }

  /**
   * Rule 2: out of the plan (done by the caller's reconcile), in-flight requests finish or the
   * drain timeout passes, then SIGTERM, then SIGKILL to the group after the stop timeout.
   */
  private async stop(instance: ManagedInstance, why: string, options: { keepState?: boolean } = {}): Promise<void> {
    if (instance.isStopping) return;
    instance.isStopping = true;
    this.leaveStartSlot(instance.record.id);
    this.health.unwatch(instance);
    const { store, events } = this.options;
    const { app, id } = instance.record;
    if (!options.keepState) {
      instance.record = { ...instance.record, state: 'draining' };
      store.upsertInstance(instance.record);
      events.emitForApp(app, 'instance-draining', `${id} draining (${why})`);
    }
    await this.waitUntilOutOfPlan(app, id, instance.spec.drainTimeoutMs);
    await this.waitForDrain(id, this.options.now() + drainWaitMs(instance.spec));
    const { pid, identity } = instance.record;
    // A container that exited at once has no pid but still its identity (the engine removes it by that).
    const result = pid === null && identity === null ? { wasKilled: false } : await this.options.runtime.stop(pid ?? 0, instance.spec.stopTimeoutMs, identity);
    if (result.wasKilled)
      events.emitForApp(app, 'instance-killed', `${id} ignored SIGTERM for ${formatMs(instance.spec.stopTimeoutMs)}: killed its process group`);
    if (!options.keepState) {
      instance.record = { ...instance.record, state: 'stopped', stoppedAt: Date.now() };
      events.emitForApp(app, 'instance-stopped', `${id} stopped`);
    } else {
      instance.record = { ...instance.record, stoppedAt: Date.now() };
    }
    store.upsertInstance(instance.record);
    this.instances.delete(id);
    this.options.requestReconcile(app);
  }

  /**
   * The reconcile that decided a stop pushes a plan without the instance; wait until the proxy
   * confirmed one. If the proxy cannot confirm for a long time, stop anyway and say so.
   */
  private async waitUntilOutOfPlan(app: string, id: string, drainTimeoutMs: number): Promise<void> {
    const deadline = this.options.now() + drainTimeoutMs + PLAN_CONFIRM_GRACE_MS;
    this.options.requestReconcile(app);
    while (!this.options.isOutOfPlan(app, id) && !this.options.isShuttingDown()) {
      if (this.options.now() >= deadline) {
        this.options.events.emitForApp(
          app,
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
    while (this.options.now() < deadline) {
      const counts = await this.options.router.inflight().catch(() => null);
      if (counts !== null && !counts[id]) return;
      await sleep(DRAIN_POLL_MS);
    }
  }

  private backoffOf(app: string): RestartBackoff {
    let backoff = this.backoffs.get(app);
    if (!backoff) {
      backoff = new RestartBackoff();
      this.backoffs.set(app, backoff);
    }
    return backoff;
  }
}

/**
 * How long a stop waits for a leaving instance's in-flight requests: its drain timeout (all when
 * the app sets no `longLived`), or with `longLived.drain: wait` its long-lived timeout if longer,
 * plus the time clients told to go away have to answer (the proxy starts that timer when it
 * applies the plan without the instance, before this wait starts, so it ends them first).
 */
function drainWaitMs(spec: AppSpec): number {
  if (spec.longLived === undefined) return spec.drainTimeoutMs;
  const longLived = spec.longLived;
  return Math.max(spec.drainTimeoutMs, longLived.drain === 'wait' ? longLived.timeoutMs + LONG_LIVED_GOODBYE_MS : LONG_LIVED_GOODBYE_MS);
}

function servingOf(instance: ManagedInstance): ServingInstance {
  return { id: instance.record.id, revision: instance.record.revision, host: instance.host, port: instance.record.port };
}
