import { isTerminalPhase } from '../model/rollout.js';
import type { Store } from '../store/store.js';
import type { RolloutRecord } from '../model/records.js';
import { strategyNamed } from '../strategies/strategies.js';
import { formatMs } from '../util/format-ms.js';
import { strategyOf } from './choose-plan.js';
import { buildDeployReport } from './deploy-report.js';
import { REPORT_AFTER_MS } from '../protocol/deploy-report.js';
import type { EventLog } from './event-log.js';

/** A rollout that ended longer ago than the kept traffic seconds gets no report. */
const REPORT_MAX_AGE_MS = 24 * 60 * 60_000;

export interface RolloutTransitionsOptions {
  store: Store;
  events: EventLog;
  rolloutFailures: Map<number, string>;
  requestReconcile: (app: string) => void;
  scheduleReconcile: (app: string, delayMs: number) => void;
}

/**
 * The ways a rollout changes direction or ends: turned back, failed, completed; with the
 * progress deadline that fails it and the report written once it ended. Each writes the record
 * and says so in one event.
 */
export class RolloutTransitions {
  constructor(private readonly options: RolloutTransitionsOptions) {}

  turnBack(rollout: RolloutRecord, reason: string): RolloutRecord {
    const updated = this.options.store.updateRollout(rollout.id, { direction: 'back', reason, step: `rolling back to revision ${rollout.fromRevision}` });
    this.options.events.emit(rollout.app, rollout.id, 'rollout-rolling-back', `rolling back to revision ${rollout.fromRevision}: ${reason}`);
    this.options.requestReconcile(rollout.app);
    return updated;
  }

  /** Turns back, or fails a first deploy (there is nothing to go back to). */
  turnBackOrFail(rollout: RolloutRecord, reason: string): RolloutRecord {
    return rollout.fromRevision === null ? this.fail(rollout, reason) : this.turnBack(rollout, reason);
  }

  fail(rollout: RolloutRecord, reason: string): RolloutRecord {
    this.options.rolloutFailures.delete(rollout.id);
    const updated = this.options.store.updateRollout(rollout.id, { phase: 'failed', reason, step: 'failed' });
    this.options.events.emit(rollout.app, rollout.id, 'rollout-failed', `rollout ${rollout.id} failed: ${reason}`);
    this.options.requestReconcile(rollout.app);
    return updated;
  }

  complete(rollout: RolloutRecord): void {
    const { store, events } = this.options;
    this.options.rolloutFailures.delete(rollout.id);
    if (rollout.direction === 'back') {
      store.updateRollout(rollout.id, { phase: 'rolled-back', step: `revision ${rollout.fromRevision} serving` });
      events.emit(
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
    const strategySpec = strategyOf(rollout, store.getRevision(rollout.app, rollout.toRevision)!.spec);
    // A restart replaced its old processes already: nothing stays warm.
    const delayMs =
      rollout.fromRevision !== null && rollout.fromRevision !== rollout.toRevision ? strategyNamed(rollout.strategy).scaleDownDelayMs(strategySpec) : 0;
    const warm = delayMs > 0 ? { warmRevision: rollout.fromRevision, warmUntil: Date.now() + delayMs } : {};
    store.updateRollout(rollout.id, { phase, step: `revision ${rollout.toRevision} serving`, ...warm });
    const kept = delayMs > 0 ? `; revision ${rollout.fromRevision} stays up out of traffic for ${formatMs(delayMs)}` : '';
    events.emit(
      rollout.app,
      rollout.id,
      phase === 'promoted' ? 'rollout-promoted' : 'rollout-rolled-back',
      `rollout ${rollout.id} ${phase}: revision ${rollout.toRevision} serves all traffic${kept}`,
    );
  }

  /**
   * The rollout's progress deadline, if passed: measured from the start of its current step
   * (a person's pause does not count), and from its start, doubled, when going back.
   */
  deadlineFailure(rollout: RolloutRecord, step: string): string | null {
    const spec = this.options.store.getRevision(rollout.app, rollout.toRevision)!.spec;
    const deadline = strategyNamed(rollout.strategy).progressDeadlineMs(strategyOf(rollout, spec)) * (rollout.direction === 'back' ? 2 : 1);
    // Stored times are wall-clock; a deadline of minutes tolerates that, and restarts keep it.
    const elapsed = Date.now() - (rollout.direction === 'back' ? rollout.startedAt : rollout.stepStartedAt);
    return elapsed > deadline ? `progress deadline exceeded: not complete after ${formatMs(deadline)} (${step})` : null;
  }

  /**
   * Stores the deploy report of a rollout that ended, once `REPORT_AFTER_MS` of traffic after
   * its end has been measured (the "after" phase).
   */
  writeReport(rollout: RolloutRecord): void {
    if (!isTerminalPhase(rollout.phase) || rollout.report !== null || rollout.endedAt === null) return;
    const sinceEndMs = Date.now() - rollout.endedAt;
    // Rollouts that ended long before this controller measured anything get none.
    if (sinceEndMs > REPORT_MAX_AGE_MS) return;
    if (sinceEndMs < REPORT_AFTER_MS) {
      this.options.scheduleReconcile(rollout.app, REPORT_AFTER_MS - sinceEndMs);
      return;
    }
    const report = buildDeployReport({ rollout, store: this.options.store, nowMs: Date.now() });
    this.options.store.updateRollout(rollout.id, { report });
    this.options.events.emit(rollout.app, rollout.id, 'rollout-report', report.headline);
  }
}
