import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AppSpec } from '../model/spec.js';
import { resolveBlueGreen, resolveCanary } from '../spec/resolve-config.js';
import type { ObservedInstance } from '../strategies/strategy-plan.js';
import type { RolloutRecord } from '../store/store.js';
import { choosePlan, type PlanInput } from './choose-plan.js';

const spec = { name: 'web', replicas: 2, strategy: { use: 'rolling', rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0, progressDeadlineMs: 600_000 }, blueGreen: resolveBlueGreen(), canary: resolveCanary() } } as AppSpec;
const rollout = { id: 1, app: 'web', strategy: 'rolling', direction: 'forward', fromRevision: 1, toRevision: 2, stepIndex: 0, pausedAt: null, strategySpec: null } as unknown as RolloutRecord;
const ready = (id: string, revision: number): ObservedInstance => ({ id, revision, state: 'ready', readyAtMs: 0 });
const pending = { isPreDeployPassed: false, isTrafficAllowed: false, isStepChecked: false };

function input(overrides: Partial<PlanInput>): PlanInput {
  return { app: 'web', rollout, stableRevision: 1, warmRevision: null, specOf: () => spec, instances: [ready('o1', 1), ready('o2', 1)], stepStartedAtMs: 0, nowMs: 0, ...overrides };
}

describe('choosePlan with hooks', () => {
  it('keeps the stable revision as it is and starts nothing new until preDeploy passed', () => {
    const { target, plan } = choosePlan(input({ hooks: pending }));
    assert.equal(target, 1);
    assert.deepEqual(plan.starts, []);
    assert.equal(plan.hookPoint, 'preDeploy');
    assert.equal(plan.isComplete, false);
    assert.equal(plan.isWaiting, true);
  });

  it('a first deploy waits for preDeploy with nothing running', () => {
    const { target, plan } = choosePlan(input({ rollout: { ...rollout, fromRevision: null }, stableRevision: null, instances: [], hooks: pending }));
    assert.equal(target, null);
    assert.equal(plan.hookPoint, 'preDeploy');
  });

  it('rolling: new instances get no share of traffic until preTraffic passed', () => {
    const { plan } = choosePlan(input({ instances: [ready('o1', 1), ready('o2', 1), ready('n1', 2)], hooks: { ...pending, isPreDeployPassed: true } }));
    assert.deepEqual(plan.traffic.weights, [{ revision: 1, weight: 2 }]);
    assert.equal(plan.hookPoint, 'preTraffic');
    const allowed = choosePlan(input({ instances: [ready('o1', 1), ready('o2', 1), ready('n1', 2)], hooks: { ...pending, isPreDeployPassed: true, isTrafficAllowed: true } }));
    assert.equal(allowed.plan.traffic.weights, null, 'equal shares, the new instance included');
  });

  it('going back runs no hooks', () => {
    const { plan } = choosePlan(input({ rollout: { ...rollout, direction: 'back' }, hooks: pending }));
    assert.equal(plan.hookPoint, null);
    assert.equal(plan.traffic.weights, null);
  });
});
