import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AppSpec } from '../model/spec.js';
import { resolveBlueGreen, resolveCanary } from '../spec/resolve-config.js';
import type { ObservedInstance } from '../strategies/strategy-plan.js';
import type { RolloutRecord } from '../store/store.js';
import { buildTrafficPlan, trafficShares } from './build-traffic-plan.js';
import { batchOfPoint, batchPointKey, choosePlan, type PlanInput } from './choose-plan.js';

const spec = {
  replicas: 2,
  strategy: {
    use: 'canary',
    rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0, progressDeadlineMs: 1 },
    blueGreen: resolveBlueGreen(),
    canary: resolveCanary(),
  },
} as unknown as AppSpec;
const ready = (id: string, revision: number): ObservedInstance => ({ id, revision, state: 'ready', readyAtMs: 0 });

function rollout(overrides: Partial<RolloutRecord>): RolloutRecord {
  return {
    id: 1,
    app: 'web',
    strategy: 'canary',
    fromRevision: 1,
    toRevision: 2,
    phase: 'progressing',
    direction: 'forward',
    step: '',
    reason: null,
    startedAt: 0,
    updatedAt: 0,
    trigger: 'deploy',
    endedAt: null,
    strategySpec: spec.strategy,
    stepIndex: 0,
    stepStartedAt: 0,
    pausedAt: null,
    gate: null,
    warmRevision: null,
    warmUntil: null,
    hooks: null,
    skippedHooks: [],
    analysis: null,
    report: null,
    ...overrides,
  };
}

function choose(overrides: Partial<PlanInput>) {
  return choosePlan({
    app: 'web',
    rollout: null,
    stableRevision: 1,
    warmRevision: null,
    specOf: () => spec,
    instances: [ready('a', 1), ready('b', 1)],
    stepStartedAtMs: 0,
    nowMs: 0,
    ...overrides,
  });
}

describe('choosePlan', () => {
  it('in the steady state keeps the stable revision at size and leaves the warm revision alone', () => {
    const { target, plan } = choose({ warmRevision: 2, instances: [ready('a', 1), ready('b', 1), ready('g1', 2), ready('g2', 2)] });
    assert.equal(target, 1);
    assert.deepEqual(plan.stopIds, []);
    assert.equal(plan.isComplete, true);
  });

  it('stops the warm revision once its window has closed', () => {
    const { plan } = choose({ instances: [ready('a', 1), ready('b', 1), ready('g1', 2), ready('g2', 2)] });
    assert.deepEqual(plan.stopIds.sort(), ['g1', 'g2']);
  });

  it('with nothing stable, stops everything', () => {
    const { target, plan } = choose({ stableRevision: null });
    assert.equal(target, null);
    assert.deepEqual(plan.stopIds, ['a', 'b']);
  });

  it("runs the rollout's own strategy forward", () => {
    const { target, plan } = choose({ rollout: rollout({}) });
    assert.equal(target, 2);
    assert.deepEqual(plan.traffic.weights, [
      { revision: 2, weight: 20 },
      { revision: 1, weight: 80 },
    ]);
  });

  it('goes back, and makes a first deploy, by rolling arithmetic whatever the strategy', () => {
    const back = choose({ rollout: rollout({ direction: 'back' }), instances: [ready('a', 1), ready('b', 1), ready('c', 2)] });
    assert.equal(back.target, 1);
    assert.equal(back.plan.traffic.weights, null);
    assert.deepEqual(back.plan.stopIds, ['c']);
    const first = choose({ rollout: rollout({ fromRevision: null, strategy: 'blue-green' }), stableRevision: null, instances: [] });
    assert.deepEqual(first.plan.starts, [{ revision: 2, count: 2 }]);
    assert.equal(first.plan.gate, null);
  });

  it("falls back to the revision's strategy for rollouts stored without one", () => {
    const { plan } = choose({ rollout: rollout({ strategy: 'blue-green', strategySpec: null }) });
    assert.deepEqual(plan.traffic.routes, [{ revision: 2, match: { header: { name: 'x-cutover-preview', value: '1' } } }]);
  });
});

describe('buildTrafficPlan', () => {
  const serving = [
    { id: 'a', revision: 1, host: '127.0.0.1', port: 1 },
    { id: 'b', revision: 1, host: '127.0.0.1', port: 2 },
    { id: 'c', revision: 2, host: '127.0.0.1', port: 3 },
  ];
  const listen = { host: '127.0.0.1', port: 8080 };
  const none = { routes: [], previews: [], sticky: null, mirror: null };

  it('gives every instance an equal share without weights', () => {
    const plan = buildTrafficPlan('web', listen, { weights: null, ...none }, serving);
    assert.deepEqual(
      plan.groups.map((g) => [g.revision, g.weight, g.endpoints.length]),
      [
        [1, 2, 2],
        [2, 1, 1],
      ],
    );
    assert.deepEqual(
      trafficShares(plan).map((s) => s.weight),
      [66.7, 33.3],
    );
    assert.equal('routes' in plan, false, 'unused features stay out of the plan');
  });

  it("keeps the weights' order, leaves out revisions without instances or weight entry, and carries the extras", () => {
    const plan = buildTrafficPlan(
      'web',
      listen,
      {
        weights: [
          { revision: 2, weight: 10 },
          { revision: 3, weight: 5 },
          { revision: 1, weight: 90 },
        ],
        routes: [{ revision: 2, match: { cookie: { name: 'beta', value: 'yes' } } }],
        previews: [],
        sticky: { cookie: 'side', ttlMs: 1000 },
        mirror: { revision: 2, percent: 5 },
      },
      serving,
    );
    assert.deepEqual(
      plan.groups.map((g) => [g.revision, g.weight]),
      [
        [2, 10],
        [1, 90],
      ],
    );
    assert.deepEqual(plan.routes, [{ revision: 2, match: { cookie: { name: 'beta', value: 'yes' } } }]);
    assert.deepEqual(
      [plan.sticky, plan.mirror],
      [
        { cookie: 'side', ttlMs: 1000 },
        { revision: 2, percent: 5 },
      ],
    );
    assert.deepEqual(trafficShares(plan), [
      { revision: 2, weight: 10, instances: 1 },
      { revision: 1, weight: 90, instances: 2 },
    ]);
  });

  it('reports a weight-0 group as 0% and an aborted revision not at all', () => {
    const plan = buildTrafficPlan(
      'web',
      listen,
      {
        weights: [
          { revision: 2, weight: 0 },
          { revision: 1, weight: 100 },
        ],
        ...none,
      },
      serving,
    );
    assert.deepEqual(
      trafficShares(plan).map((s) => [s.revision, s.weight]),
      [
        [2, 0],
        [1, 100],
      ],
    );
    const aborted = buildTrafficPlan(
      'web',
      listen,
      { weights: null, ...none },
      serving.filter((s) => s.revision !== 2),
    );
    assert.deepEqual(
      trafficShares(aborted).map((s) => s.revision),
      [1],
    );
  });
});

const rollingSpec = {
  name: 'web',
  replicas: 2,
  strategy: {
    use: 'rolling',
    rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0, progressDeadlineMs: 600_000 },
    blueGreen: resolveBlueGreen(),
    canary: resolveCanary(),
  },
} as AppSpec;
const rollingRollout = {
  id: 1,
  app: 'web',
  strategy: 'rolling',
  direction: 'forward',
  fromRevision: 1,
  toRevision: 2,
  stepIndex: 0,
  pausedAt: null,
  strategySpec: null,
} as unknown as RolloutRecord;
const readyOf = (id: string, revision: number): ObservedInstance => ({ id, revision, state: 'ready', readyAtMs: 0 });
const pending = { isPreDeployPassed: false, isTrafficAllowed: false, isStepChecked: false };

function hookInput(overrides: Partial<PlanInput>): PlanInput {
  return {
    app: 'web',
    rollout: rollingRollout,
    stableRevision: 1,
    warmRevision: null,
    specOf: () => rollingSpec,
    instances: [readyOf('o1', 1), readyOf('o2', 1)],
    stepStartedAtMs: 0,
    nowMs: 0,
    ...overrides,
  };
}

describe('choosePlan with hooks', () => {
  it('keeps the stable revision as it is and starts nothing new until preDeploy passed', () => {
    const { target, plan } = choosePlan(hookInput({ hooks: pending }));
    assert.equal(target, 1);
    assert.deepEqual(plan.starts, []);
    assert.equal(plan.hookPoint, 'preDeploy');
    assert.equal(plan.isComplete, false);
    assert.equal(plan.isWaiting, true);
  });

  it('a first deploy waits for preDeploy with nothing running', () => {
    const { target, plan } = choosePlan(hookInput({ rollout: { ...rollingRollout, fromRevision: null }, stableRevision: null, instances: [], hooks: pending }));
    assert.equal(target, null);
    assert.equal(plan.hookPoint, 'preDeploy');
  });

  it('rolling: new instances get no share of traffic until preTraffic passed', () => {
    const { plan } = choosePlan(
      hookInput({ instances: [readyOf('o1', 1), readyOf('o2', 1), readyOf('n1', 2)], hooks: { ...pending, isPreDeployPassed: true } }),
    );
    assert.deepEqual(plan.traffic.weights, [{ revision: 1, weight: 2 }]);
    assert.equal(plan.hookPoint, 'preTraffic');
    const allowed = choosePlan(
      hookInput({ instances: [readyOf('o1', 1), readyOf('o2', 1), readyOf('n1', 2)], hooks: { ...pending, isPreDeployPassed: true, isTrafficAllowed: true } }),
    );
    assert.equal(allowed.plan.traffic.weights, null, 'equal shares, the new instance included');
  });

  it('going back runs no hooks', () => {
    const { plan } = choosePlan(hookInput({ rollout: { ...rollingRollout, direction: 'back' }, hooks: pending }));
    assert.equal(plan.hookPoint, null);
    assert.equal(plan.traffic.weights, null);
  });
});

describe('choosePlan with rolling analysis after each batch', () => {
  const half = [readyOf('n1', 2), readyOf('o2', 1)];

  it('a batch serving beside the old instances stands at its analysis point, waiting on purpose', () => {
    const { plan } = choosePlan(hookInput({ instances: half, batchAnalysis: { passedCount: 0 } }));
    assert.equal(plan.analysisPoint, 'batch@1');
    assert.equal(plan.isWaiting, true, 'the progress deadline does not run while a batch is analysed');
    assert.deepEqual(plan.starts, []);
    assert.deepEqual(plan.stopIds, []);
    assert.equal(plan.traffic.weights, null, 'the batch takes its equal share of traffic');
  });

  it('goes on once the batch passed, and never analyses batches when going back', () => {
    const passed = choosePlan(hookInput({ instances: half, batchAnalysis: { passedCount: 1 } }));
    assert.equal(passed.plan.analysisPoint, null);
    assert.equal(passed.plan.stopIds.length + passed.plan.starts.length > 0, true);
    const back = choosePlan(hookInput({ rollout: { ...rollingRollout, direction: 'back' }, instances: half, batchAnalysis: { passedCount: 0 } }));
    assert.equal(back.plan.analysisPoint, null);
  });

  it('names batch points and reads them back', () => {
    assert.equal(batchPointKey(3), 'batch@3');
    assert.equal(batchOfPoint('batch@3'), 3);
    assert.equal(batchOfPoint('step@3'), null);
  });
});
