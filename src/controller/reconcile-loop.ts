import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError } from '../errors.js';
import { KubernetesApiError } from '../runtime/kubernetes/kubernetes-api-error.js';
import type { Store } from '../store/store.js';
import { isStorageError } from '../store/storage-fault.js';
import type { StorageGuard } from './storage-guard.js';

/**
 * How long a failed pass waits before the next try, and the period of the controller's tick,
 * which reconciles only apps with something under way. A settled app (see `RolloutPass.run`)
 * is passed over: what changes it (an exit, a failed check, a command, a timed window) asks for
 * a pass itself, so an idle daemon reconciles nothing.
 */
export const TICK_MS = 250;

export interface ReconcileLoopOptions {
  store: Store;
  storage: StorageGuard;
  /** First failure of an instance or object of a forward rollout, by rollout id: the pass turns it back. */
  rolloutFailures: Map<number, string>;
  log: (line: string) => void;
  /** One pass over the app: observe, plan, apply, persist. Safe to repeat at any point. Resolves to whether the app is settled. */
  pass: (app: string) => Promise<boolean | void>;
}

interface AppLoop {
  /** The passes running now, or null; `isDirty` asks for one more. */
  running: Promise<void> | null;
  isDirty: boolean;
  /** While above 0, no pass starts (an abort moves traffic and records it as one step). */
  holds: number;
  /** Wakes a pass when a timed window closes (a warm revision, the report's after window). */
  wakeTimer: NodeJS.Timeout | null;
  /** The cluster API failure logged last, until a pass goes through: an outage is logged once, not every tick. */
  clusterOutage: string | null;
  /** The last pass found nothing under way. */
  isSettled: boolean;
}

/**
 * Runs reconcile passes, one app at a time each: a request while a pass runs asks for one more
 * after it. Decides what a failed pass means: a full disk holds every rollout, an object the
 * cluster refuses fails the rollout, a cluster that does not answer is waited for, anything
 * else is logged and tried again a tick later.
 */
export class ReconcileLoop {
  private readonly apps = new Map<string, AppLoop>();
  private isPaused = false;
  private stopped = false;

  constructor(private readonly options: ReconcileLoopOptions) {}

  /** Apps this loop has been asked about. */
  knownApps(): string[] {
    return [...this.apps.keys()];
  }

  /** From now on the tick reconciles this app too (a cluster app this controller only watches so far). */
  track(app: string): void {
    this.appLoop(app);
  }

  /** The app was removed: the tick no longer reconciles it (call inside `hold`, so no pass runs). */
  forget(app: string): void {
    const state = this.apps.get(app);
    if (state?.wakeTimer) clearTimeout(state.wakeTimer);
    this.apps.delete(app);
  }

  get isStopping(): boolean {
    return this.stopped;
  }

  /** While paused (adopting instances at start), requests are remembered; `resume` does not run them by itself. */
  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
  }

  request(app: string): void {
    if (this.stopped) return;
    const state = this.appLoop(app);
    state.isDirty = true;
    if (state.running || this.isPaused) return;
    // Mark the loop as running before it starts: a pass may request another one synchronously.
    let finished: () => void = () => {};
    state.running = new Promise((resolve) => (finished = resolve));
    void (async () => {
      while (state.isDirty && state.holds === 0 && !this.stopped) {
        state.isDirty = false;
        await this.runPass(app, state);
      }
      state.running = null;
      finished();
    })();
  }

  /** Runs passes until none is pending: what was just decided is applied when it resolves. */
  async settle(app: string): Promise<void> {
    const state = this.appLoop(app);
    this.request(app);
    while (state.running) await state.running;
  }

  /** Runs `action` with no pass running or starting meanwhile. */
  async hold<T>(app: string, action: () => Promise<T>): Promise<T> {
    const state = this.appLoop(app);
    state.holds += 1;
    try {
      while (state.running) await state.running;
      return await action();
    } finally {
      state.holds -= 1;
    }
  }

  /** The controller's tick: a pass for every app with something under way; none for settled ones. */
  tick(): void {
    for (const [app, state] of this.apps) if (!state.isSettled) this.request(app);
  }

  /** A pass after `delayMs` (one timer per app: the earliest asked for wins, later passes ask again). */
  schedule(app: string, delayMs: number): void {
    const state = this.appLoop(app);
    if (state.wakeTimer) return;
    state.wakeTimer = setTimeout(
      () => {
        state.wakeTimer = null;
        this.request(app);
      },
      Math.max(0, delayMs) + 5,
    );
    state.wakeTimer.unref();
  }

  /** No pass starts from now on; resolves once the running ones ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const state of this.apps.values()) if (state.wakeTimer) clearTimeout(state.wakeTimer);
    await Promise.all([...this.apps.values()].map((state) => state.running));
  }

  private async runPass(app: string, state: AppLoop): Promise<void> {
    try {
      state.isSettled = false;
      if (this.options.storage.fault === null) state.isSettled = (await this.options.pass(app)) === true;
      if (state.clusterOutage !== null) this.options.log(`reconcile of ${app}: the cluster answers again`);
      state.clusterOutage = null;
    } catch (error) {
      const rollout = error instanceof KubernetesApiError && error.isInvalid ? this.options.store.activeRollout(app) : null;
      const failures = this.options.rolloutFailures;
      if (isStorageError(error)) this.options.storage.hold((error as Error).message);
      else if (rollout?.direction === 'forward' && !failures.has(rollout.id)) {
        // The cluster refused an object the rollout needs (400, 422): sending it again cannot help, so the rollout turns back (or fails) now.
        failures.set(rollout.id, `the cluster refused an object of the rollout: ${(error as Error).message}`);
        state.isDirty = true;
      } else if (error instanceof CutoverError && (error.code === 'KUBERNETES_API_ERROR' || error.code === 'CLUSTER_STATE_UNREADABLE')) {
        // The cluster did not answer: said once per distinct failure, tried again every tick.
        if (state.clusterOutage !== error.message) this.options.log(`reconcile of ${app} waits for the cluster: ${error.message}`);
        state.clusterOutage = error.message;
        await sleep(TICK_MS);
      } else {
        this.options.log(`reconcile of ${app} failed: ${(error as Error).stack ?? String(error)}`);
        await sleep(TICK_MS);
      }
    }
  }

  private appLoop(app: string): AppLoop {
    let state = this.apps.get(app);
    if (!state) {
      state = { running: null, isDirty: false, holds: 0, wakeTimer: null, clusterOutage: null, isSettled: false };
      this.apps.set(app, state);
    }
    return state;
  }
}
