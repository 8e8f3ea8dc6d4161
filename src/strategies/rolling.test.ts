import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planRolling, type ObservedInstance } from './rolling.js';
import type { RollingSpec } from '../model/spec.js';

const spec = (maxSurge: RollingSpec['maxSurge'], maxUnavailable: RollingSpec['maxUnavailable'], minReadyMs = 0): RollingSpec => ({
  maxSurge,
  maxUnavailable,
  minReadyMs,
  progressDeadlineMs: 600_000,
});

function ready(id: string, revision: number, readyAtMs = 0): ObservedInstance {
  return { id, revision, state: 'ready', readyAtMs };
}

/**
 * Drives the planner to the end like the controller would, with instances that become ready
 * one tick after they start, and checks the rolling invariants after every tick.
 */
function simulate(replicas: number, rolling: RollingSpec): { ticks: number; maxTotal: number; minAvailable: number } {
  let instances: ObservedInstance[] = Array.from({ length: replicas }, (_, n) => ready(`old-${n}`, 1));
  let nextId = 0;
  let maxTotal = 0;
  let minAvailable = Infinity;
  for (let tick = 1; tick < 200; tick++) {
    // Instances started in the previous tick are ready now.
    instances = instances.map((i) => (i.state === 'starting' ? { ...i, state: 'ready', readyAtMs: tick } : i));
    const plan = planRolling({ replicas, rolling, targetRevision: 2, instances, nowMs: tick });
    if (plan.isComplete) return { ticks: tick, maxTotal, minAvailable };
    instances = instances.filter((i) => !plan.stopIds.includes(i.id));
    minAvailable = Math.min(minAvailable, instances.filter((i) => i.state === 'ready').length);
    for (let n = 0; n < plan.startCount; n++) instances.push({ id: `new-${nextId++}`, revision: 2, state: 'starting', readyAtMs: null });
    maxTotal = Math.max(maxTotal, instances.length);
    assert.ok(plan.startCount > 0 || plan.stopIds.length > 0 || instances.some((i) => i.state === 'starting'), `stuck at tick ${tick}`);
  }
  assert.fail('the rollout never completed');
}

describe('planRolling', () => {
  it('keeps total within replicas + maxSurge and availability at replicas - maxUnavailable for every combination', () => {
    for (let replicas = 1; replicas <= 6; replicas++) {
      for (let surge = 0; surge <= 3; surge++) {
        for (let unavailable = 0; unavailable <= 3; unavailable++) {
          if (surge === 0 && unavailable === 0) continue;
          const result = simulate(replicas, spec(surge, unavailable));
          const label = `replicas=${replicas} surge=${surge} unavailable=${unavailable}`;
          assert.ok(result.maxTotal <= replicas + surge, `${label}: total ${result.maxTotal}`);
          assert.ok(result.minAvailable >= Math.max(0, replicas - unavailable), `${label}: available ${result.minAvailable}`);
        }
      }
    }
  });

  it('starts one new instance first and stops no old one while maxUnavailable is 0', () => {
    const instances = [ready('a', 1), ready('b', 1), ready('c', 1)];
    const plan = planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 2, instances, nowMs: 10 });
    assert.equal(plan.startCount, 1);
    assert.deepEqual(plan.stopIds, []);
    assert.equal(plan.isComplete, false);
  });

  it('stops an old instance only once a new one is ready', () => {
    const starting: ObservedInstance = { id: 'n', revision: 2, state: 'starting', readyAtMs: null };
    const before = planRolling({ replicas: 2, rolling: spec(1, 0), targetRevision: 2, instances: [ready('a', 1), ready('b', 1), starting], nowMs: 5 });
    assert.deepEqual(before.stopIds, []);
    assert.equal(before.startCount, 0);
    const after = planRolling({ replicas: 2, rolling: spec(1, 0), targetRevision: 2, instances: [ready('a', 1), ready('b', 1), ready('n', 2, 5)], nowMs: 6 });
    assert.equal(after.stopIds.length, 1);
    assert.equal(after.startCount, 1);
  });

  it('does not count a new instance as available before minReady has passed', () => {
    const instances = [ready('a', 1), ready('n', 2, 1_000)];
    const early = planRolling({ replicas: 1, rolling: spec(1, 0, 5_000), targetRevision: 2, instances, nowMs: 2_000 });
    assert.deepEqual(early.stopIds, []);
    const late = planRolling({ replicas: 1, rolling: spec(1, 0, 5_000), targetRevision: 2, instances, nowMs: 6_000 });
    assert.deepEqual(late.stopIds, ['a']);
  });

  it('resolves percentages, rounding surge up and unavailability down', () => {
    const instances = Array.from({ length: 10 }, (_, n) => ready(`o${n}`, 1));
    const plan = planRolling({ replicas: 10, rolling: spec('25%', '25%'), targetRevision: 2, instances, nowMs: 1 });
    assert.equal(plan.stopIds.length, 2); // floor(2.5)
    assert.equal(plan.startCount, 5); // ceil(2.5) surge + 2 freed
  });

  it('replaces a failed instance of the stable revision and is complete when back to full size', () => {
    const degraded = planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 1, instances: [ready('a', 1), ready('b', 1)], nowMs: 1 });
    assert.equal(degraded.startCount, 1);
    assert.equal(degraded.isComplete, false);
    const healthy = planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 1, instances: [ready('a', 1), ready('b', 1), ready('c', 1)], nowMs: 1 });
    assert.equal(healthy.startCount, 0);
    assert.equal(healthy.isComplete, true);
  });

  it('rolls back by converging on the old revision: the new instances go, old ones come back', () => {
    const instances = [ready('a', 1), ready('b', 1), ready('n1', 2), { id: 'n2', revision: 2, state: 'starting' as const, readyAtMs: null }];
    const plan = planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 1, instances, nowMs: 1 });
    assert.ok(plan.stopIds.includes('n2'), 'the starting new instance is dropped at once');
    assert.equal(plan.startCount, 1);
  });

  it('stops surplus instances of the target when replicas shrink, not-ready ones first', () => {
    const instances = [ready('a', 1), ready('b', 1), { id: 'c', revision: 1, state: 'starting' as const, readyAtMs: null }];
    const plan = planRolling({ replicas: 2, rolling: spec(1, 0), targetRevision: 1, instances, nowMs: 1 });
    assert.deepEqual(plan.stopIds, ['c']);
    assert.equal(plan.startCount, 0);
  });

  it('ignores draining instances when counting capacity', () => {
    const instances = [ready('a', 2), { id: 'old', revision: 1, state: 'draining' as const, readyAtMs: 0 }];
    const plan = planRolling({ replicas: 1, rolling: spec(1, 0), targetRevision: 2, instances, nowMs: 1 });
    assert.equal(plan.isComplete, true);
    assert.deepEqual(plan.stopIds, []);
  });
});

describe('planRolling with hooks', () => {
  const old3 = [ready('o1', 1), ready('o2', 1), ready('o3', 1)];

  it('holds new instances out of the count of available ones until preTraffic passes: no old instance leaves for them', () => {
    const plan = planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 2, instances: [...old3, ready('n1', 2)], nowMs: 10, isTrafficAllowed: false });
    assert.deepEqual(plan.stopIds, []);
    assert.equal(plan.startCount, 0, 'the surge is used by the held instance');
    assert.equal(plan.hookPoint, 'preTraffic');
    assert.equal(plan.isComplete, false);
  });

  it('runs preTraffic only once every new instance started so far is ready', () => {
    const starting: ObservedInstance = { id: 'n2', revision: 2, state: 'starting', readyAtMs: null };
    const plan = planRolling({
      replicas: 3,
      rolling: spec(2, 0),
      targetRevision: 2,
      instances: [...old3, ready('n1', 2), starting],
      nowMs: 10,
      isTrafficAllowed: false,
    });
    assert.equal(plan.hookPoint, null);
    assert.equal(
      planRolling({ replicas: 3, rolling: spec(2, 0), targetRevision: 2, instances: old3, nowMs: 10, isTrafficAllowed: false }).hookPoint,
      null,
      'nothing new to check yet',
    );
  });

  it('waits for postTraffic once the new revision serves alone, then completes', () => {
    const new3 = [ready('n1', 2), ready('n2', 2), ready('n3', 2)];
    const waiting = planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 2, instances: new3, nowMs: 10, isStepChecked: false });
    assert.equal(waiting.isComplete, false);
    assert.equal(waiting.hookPoint, 'postTraffic');
    assert.equal(planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 2, instances: new3, nowMs: 10, isStepChecked: true }).isComplete, true);
  });
});

describe('planRolling with analysis after each batch', () => {
  /**
   * Drives the planner like the controller, passing each batch's analysis as soon as the batch
   * serves; returns the batches analysed and, per tick, the new instances beside the old ones.
   */
  function simulateBatches(
    replicas: number,
    rolling: RollingSpec,
  ): { batches: number[]; ticks: { newCount: number; oldCount: number; passed: number }[]; maxTotal: number; minAvailable: number } {
    let instances: ObservedInstance[] = Array.from({ length: replicas }, (_, n) => ready(`old-${n}`, 1));
    let nextId = 0;
    let passedCount = 0;
    const batches: number[] = [];
    const ticks: { newCount: number; oldCount: number; passed: number }[] = [];
    let maxTotal = 0;
    let minAvailable = Infinity;
    for (let tick = 1; tick < 300; tick++) {
      instances = instances.map((i) => (i.state === 'starting' ? { ...i, state: 'ready', readyAtMs: tick } : i));
      const plan = planRolling({ replicas, rolling, targetRevision: 2, instances, nowMs: tick, batchAnalysis: { passedCount } });
      if (plan.isComplete) return { batches, ticks, maxTotal, minAvailable };
      instances = instances.filter((i) => !plan.stopIds.includes(i.id));
      for (let n = 0; n < plan.startCount; n++) instances.push({ id: `new-${nextId++}`, revision: 2, state: 'starting', readyAtMs: null });
      ticks.push({
        newCount: instances.filter((i) => i.revision === 2).length,
        oldCount: instances.filter((i) => i.revision === 1).length,
        passed: passedCount,
      });
      maxTotal = Math.max(maxTotal, instances.length);
      minAvailable = Math.min(minAvailable, instances.filter((i) => i.state === 'ready').length);
      if (plan.analysisBatch !== null) {
        // The analysis of this batch ran with the batch serving; it passes.
        assert.equal(plan.startCount, 0, 'nothing new starts while a batch is analysed');
        assert.deepEqual(plan.stopIds, [], 'no old instance leaves while a batch is analysed');
        batches.push(plan.analysisBatch);
        passedCount = plan.analysisBatch;
      }
    }
    assert.fail('the rollout never completed');
  }

  it('analyses after every batch of maxSurge + maxUnavailable new instances, the last batch at the end', () => {
    assert.deepEqual(simulateBatches(3, spec(1, 0)).batches, [1, 2]);
    assert.deepEqual(simulateBatches(5, spec(1, 1)).batches, [2, 4]);
    assert.deepEqual(simulateBatches(4, spec('25%', '25%')).batches, [2]);
    assert.deepEqual(simulateBatches(1, spec(1, 0)).batches, [], 'one replica: the only batch is the last one');
  });

  it('never runs more new instances than the batches analysed so far vouch for, plus one batch', () => {
    for (let replicas = 1; replicas <= 6; replicas++) {
      for (const [surge, unavailable] of [
        [1, 0],
        [0, 1],
        [2, 1],
        [1, 2],
      ] as const) {
        const result = simulateBatches(replicas, spec(surge, unavailable));
        const size = Math.min(replicas, surge + unavailable);
        const label = `replicas=${replicas} surge=${surge} unavailable=${unavailable}`;
        for (const t of result.ticks) assert.ok(t.newCount <= Math.min(replicas, t.passed + size), `${label}: ${t.newCount} new with ${t.passed} passed`);
        assert.ok(result.maxTotal <= replicas + surge, `${label}: total ${result.maxTotal}`);
        assert.ok(result.minAvailable >= replicas - unavailable, `${label}: available ${result.minAvailable}`);
      }
    }
  });

  it('holds a batch that serves beside the old instances until its analysis passed', () => {
    const instances = [ready('n1', 2), ready('o2', 1), ready('o3', 1)];
    const waiting = planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 2, instances, nowMs: 10, batchAnalysis: { passedCount: 0 } });
    assert.equal(waiting.analysisBatch, 1);
    assert.equal(waiting.startCount, 0);
    assert.deepEqual(waiting.stopIds, []);
    assert.equal(waiting.isComplete, false);
    const passed = planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 2, instances, nowMs: 10, batchAnalysis: { passedCount: 1 } });
    assert.equal(passed.analysisBatch, null);
    assert.equal(passed.startCount, 1, 'the next batch starts');
  });

  it('without batch analysis it rolls straight through, as before', () => {
    const instances = [ready('n1', 2), ready('o2', 1), ready('o3', 1)];
    const plan = planRolling({ replicas: 3, rolling: spec(1, 0), targetRevision: 2, instances, nowMs: 10 });
    assert.equal(plan.analysisBatch, null);
    assert.equal(plan.startCount, 1);
  });
});
