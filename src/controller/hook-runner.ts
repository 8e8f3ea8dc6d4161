import path from 'node:path';
import type { HookPoint } from '../model/spec.js';
import { isTerminalPhase } from '../model/rollout.js';
import { finalPointOf, hooksAt, pointKeyOf, pointState } from '../hooks/hook-point.js';
import { describeHook, startHook, type HookOutcome, type StartedHook } from '../hooks/run-hook.js';
import { killOrphanCommand } from '../runtime/local/run-command.js';
import type { PlannedHookPoint } from '../strategies/strategy-plan.js';
import type { HookRunRecord, RolloutRecord, Store } from '../store/store.js';
import type { EventKind } from './event-kinds.js';

export interface HookRunnerOptions {
  store: Store;
  dataDir: string;
  emit: (app: string, rolloutId: number | null, kind: EventKind, message: string) => void;
  /** Called when a hook ended: the app's reconcile looks at the new state. */
  onSettled: (app: string) => void;
  log: (line: string) => void;
}

interface OwnedRun {
  app: string;
  rolloutId: number;
  point: HookPoint;
  hook: StartedHook;
}

/** Where the output of a rollout's hooks goes. */
export function hookLogPath(dataDir: string, app: string, rolloutId: number): string {
  return path.join(dataDir, 'logs', app, `rollout-${rolloutId}-hooks.log`);
}

/**
 * Runs a rollout's hooks beside the reconcile loop, never inside it: the loop asks for a point
 * (`advance`), the hook runs in the background, and its start and end are persisted, so the loop
 * (and a controller started after a crash) sees where every point stands. A hook found running
 * that this controller did not start was interrupted: it runs again only when idempotent,
 * otherwise the rollout pauses for a person.
 */
export class HookRunner {
  private readonly owned = new Map<string, OwnedRun>();
  private isStopping = false;

  constructor(private readonly options: HookRunnerOptions) {}

  /** Kills what hooks an earlier controller left running (the very same processes only). */
  killOrphans(): void {
    for (const run of this.options.store.listHookRuns({ states: ['running'] })) {
      if (run.pid !== null && killOrphanCommand(run.pid, run.identity))
        this.options.log(`killed hook process group ${run.pid} left by an earlier controller (${run.description})`);
    }
  }

  /** Runs the next hook of the point a forward rollout stands at, unless one runs already. */
  advance(rollout: RolloutRecord, point: PlannedHookPoint, envFor: (point: HookPoint) => Record<string, string>): void {
    if (this.isStopping) return;
    const pointKey = pointKeyOf(point, rollout.stepIndex);
    const hooks = hooksAt(rollout, point);
    const state = pointState(hooks, this.options.store.listHookRuns({ rolloutId: rollout.id }), pointKey);
    if (state.kind !== 'next' || this.owned.has(runKey(rollout.id, pointKey, state.index))) return;
    const { run, index } = state;
    if (run?.state === 'running') {
      // Started by a controller that is gone: it may have done all, some or none of its work.
      if (hooks[index]!.isIdempotent) {
        this.options.emit(
          rollout.app,
          rollout.id,
          'hook-restarted',
          `${title(point, index, hooks.length)} was interrupted by a controller restart; it is idempotent: running it again`,
        );
      } else {
        this.interrupt(rollout, run, hooks.length);
        return;
      }
    } else if (rollout.pausedAt !== null) {
      return; // A person's pause (or an interrupted hook waiting for one): nothing new starts.
    }
    this.start(rollout, point, pointKey, index, (run?.attempts ?? 0) + 1, envFor);
  }

  /** What a person must decide when the point's next hook was interrupted and the rollout waits for them; else null. */
  interruption(rollout: RolloutRecord, point: PlannedHookPoint): string | null {
    if (rollout.pausedAt === null) return null;
    const pointKey = pointKeyOf(point, rollout.stepIndex);
    const hooks = hooksAt(rollout, point);
    const state = pointState(hooks, this.options.store.listHookRuns({ rolloutId: rollout.id }), pointKey);
    if (state.kind !== 'next' || state.run?.state !== 'interrupted') return null;
    return `${title(point, state.index, hooks.length)} (${state.run.description}) was interrupted by a controller restart: check what it did, then run cutover resume ${rollout.app} to run it again, or cutover rollback ${rollout.app}`;
  }

  /** After a rollout ended: runs its onSuccess or onFailure hooks, each once, whatever the others did. */
  advanceFinal(rollout: RolloutRecord, envFor: (point: HookPoint) => Record<string, string>): void {
    if (this.isStopping) return;
    const point = finalPointOf(rollout);
    if (point === null) return;
    const hooks = hooksAt(rollout, point);
    const state = pointState(hooks, this.options.store.listHookRuns({ rolloutId: rollout.id }), point, true);
    if (state.kind !== 'next' || this.owned.has(runKey(rollout.id, point, state.index))) return;
    const { run, index } = state;
    if (run?.state === 'running' && !hooks[index]!.isIdempotent) {
      this.record(run, 'interrupted', 'interrupted by a controller restart; not idempotent, so not run again');
      this.options.emit(
        rollout.app,
        rollout.id,
        'hook-interrupted',
        `${title(point, index, hooks.length)} (${run.description}) was interrupted by a controller restart; it is not idempotent: not run again`,
      );
      this.options.onSettled(rollout.app);
      return;
    }
    this.start(rollout, point, point, index, (run?.attempts ?? 0) + 1, envFor);
  }

  /**
   * A rollout that ended or turned back no longer waits for its preDeploy, preTraffic or
   * postTraffic hooks: running ones are cancelled (their process group killed).
   */
  cancelStale(app: string): void {
    const { store } = this.options;
    const isStale = (rolloutId: number): boolean => {
      const rollout = store.getRollout(rolloutId);
      return !rollout || isTerminalPhase(rollout.phase) || rollout.direction !== 'forward';
    };
    for (const owned of this.owned.values()) {
      if (owned.app === app && !isFinal(owned.point) && isStale(owned.rolloutId)) owned.hook.cancel();
    }
    for (const run of store.listHookRuns({ app, states: ['running'] })) {
      if (isFinal(run.point) || this.owned.has(runKey(run.rolloutId, run.pointKey, run.index)) || !isStale(run.rolloutId)) continue;
      this.record(run, 'cancelled', 'its rollout ended or turned back while no controller watched it');
    }
  }

  /** `cutover down`: final hooks of rollouts the daemon aborts on its way out are not run. */
  skipFinal(rollout: RolloutRecord, reason: string): void {
    const point = finalPointOf(rollout);
    if (point === null) return;
    hooksAt(rollout, point).forEach((hook, index) => {
      this.options.store.upsertHookRun({ ...newRun(rollout, point, point, index, describeHook(hook), 0), state: 'skipped', reason, endedAt: Date.now() });
    });
  }

  /** Kills every running hook and records it as interrupted; resolves once their processes are gone. */
  async stop(): Promise<void> {
    this.isStopping = true;
    const runs = [...this.owned.values()];
    for (const run of runs) run.hook.cancel();
    await Promise.all(runs.map((run) => run.hook.done.catch(() => undefined)));
  }

  private start(
    rollout: RolloutRecord,
    point: HookPoint,
    pointKey: string,
    index: number,
    attempts: number,
    envFor: (point: HookPoint) => Record<string, string>,
  ): void {
    const { store, emit } = this.options;
    const hooks = hooksAt(rollout, point);
    const hook = hooks[index]!;
    const name = title(point, index, hooks.length);
    const description = describeHook(hook);
    // Persisted before it starts: a controller that dies from here on leaves a trace of it.
    const run = newRun(rollout, point, pointKey, index, description, attempts);
    store.upsertHookRun(run);
    emit(rollout.app, rollout.id, 'hook-started', `${name} started${attempts > 1 ? ` (attempt ${attempts})` : ''}: ${description}`);
    const started = startHook(hook, {
      env: envFor(point),
      logPath: hookLogPath(this.options.dataDir, rollout.app, rollout.id),
      title: `rollout ${rollout.id} ${pointKey} hook ${index + 1}/${hooks.length}`,
    });
    const running: HookRunRecord = { ...run, pid: started.pid, identity: started.identity };
    store.upsertHookRun(running);
    const key = runKey(rollout.id, pointKey, index);
    this.owned.set(key, { app: rollout.app, rolloutId: rollout.id, point, hook: started });
    void started.done
      .then((outcome) => this.finish(running, name, hooks.length, outcome))
      .catch((error: unknown) => this.options.log(`hook ${name} of rollout ${rollout.id}: ${(error as Error).stack ?? String(error)}`))
      .finally(() => {
        this.owned.delete(key);
        this.options.onSettled(rollout.app);
      });
  }

  private finish(run: HookRunRecord, name: string, count: number, outcome: HookOutcome): void {
    const { store, emit } = this.options;
    const output = outcome.lastLines.length ? `\n${outcome.lastLines.map((line) => `  | ${line}`).join('\n')}` : '';
    if (outcome.isCancelled) {
      const state = this.isStopping ? 'interrupted' : 'cancelled';
      this.record(run, state, this.isStopping ? 'the daemon stopped while it ran' : `its rollout ended or turned back; ${outcome.summary}`);
      emit(
        run.app,
        run.rolloutId,
        'hook-cancelled',
        `${name} ${this.isStopping ? 'stopped with the daemon' : 'cancelled: its rollout ended or turned back'} (${outcome.summary})`,
      );
      return;
    }
    if (outcome.isSuccess) {
      this.record(run, 'succeeded', outcome.summary);
      emit(run.app, run.rolloutId, 'hook-succeeded', `${name} passed (${outcome.summary})`);
      const rollout = store.getRollout(run.rolloutId);
      const isPointDone = run.index === count - 1;
      // Passing a point is progress: the deadline counts from here.
      if (isPointDone && rollout && !isTerminalPhase(rollout.phase) && !isFinal(run.point)) store.updateRollout(rollout.id, { stepStartedAt: Date.now() });
      return;
    }
    const lastLine = outcome.lastLines.at(-1);
    const reason = `${run.point} hook "${run.description}" ${outcome.summary}${lastLine ? `: ${lastLine}` : ''}`;
    this.record(run, 'failed', reason);
    const effect = isFinal(run.point) ? ' (logged only)' : '';
    emit(
      run.app,
      run.rolloutId,
      'hook-failed',
      `${name} failed${effect}: ${outcome.summary}; output in ${hookLogPath(this.options.dataDir, run.app, run.rolloutId)}${output}`,
    );
  }

  /** An interrupted hook that is not idempotent: the rollout pauses until a person decides. */
  private interrupt(rollout: RolloutRecord, run: HookRunRecord, count: number): void {
    this.record(run, 'interrupted', 'interrupted by a controller restart');
    const name = title(run.point, run.index, count);
    this.options.store.updateRollout(rollout.id, { phase: 'paused', pausedAt: rollout.pausedAt ?? Date.now() });
    this.options.emit(
      rollout.app,
      rollout.id,
      'hook-interrupted',
      `${name} (${run.description}) was interrupted by a controller restart and is not marked idempotent: the rollout pauses. Check what it did, then run cutover resume ${rollout.app} to run it again, or cutover rollback ${rollout.app}`,
    );
  }

  private record(run: HookRunRecord, state: HookRunRecord['state'], reason: string): void {
    this.options.store.upsertHookRun({ ...run, state, reason, endedAt: Date.now() });
  }
}

function newRun(rollout: RolloutRecord, point: HookPoint, pointKey: string, index: number, description: string, attempts: number): HookRunRecord {
  return {
    rolloutId: rollout.id,
    app: rollout.app,
    point,
    pointKey,
    index,
    description,
    state: 'running',
    attempts,
    pid: null,
    identity: null,
    reason: null,
    startedAt: Date.now(),
    endedAt: null,
  };
}

function runKey(rolloutId: number, pointKey: string, index: number): string {
  return `${rolloutId}/${pointKey}/${index}`;
}

function isFinal(point: HookPoint): boolean {
  return point === 'onSuccess' || point === 'onFailure';
}

function title(point: HookPoint, index: number, count: number): string {
  return count > 1 ? `${point} hook ${index + 1}/${count}` : `${point} hook`;
}
