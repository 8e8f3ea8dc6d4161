import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CanarySpec, CanaryStep } from '../model/spec.js';
import { canarySizeAt, describeStep, planCanary, promoteCanary, weightAt, type CanaryInput } from './canary.js';
import type { ObservedInstance } from './strategy-plan.js';

const spec = (steps: CanaryStep[], overrides: Partial<CanarySpec> = {}): CanarySpec => ({
  steps,
  canaryReplicas: 'auto',
  sticky: null,
  routes: [],
  mirror: { percent: 0 },
  abortScaleDownDelayMs: 30_000,
  progressDeadlineMs: 600_000,
  ...overrides,
});

const ready = (id: string, revision: number): ObservedInstance => ({ id, revision, state: 'ready', readyAtMs: 0 });
const stable4 = [ready('s1', 1), ready('s2', 1), ready('s3', 1), ready('s4', 1)];
const STEPS: CanaryStep[] = [{ setWeight: 10 }, { pause: 30_000 }, { setWeight: 50 }, { pause: null }];

function plan(overrides: Partial<CanaryInput>) {
  return planCanary({
    app: 'web',
    replicas: 4,
    canary: spec(STEPS),
    stable: 1,
    canaryRevision: 2,
    instances: stable4,
    stepIndex: 0,
    stepStartedAtMs: 0,
    isPaused: false,
    nowMs: 0,
    ...overrides,
  });
}

describe('planCanary', () => {
  it('setWeight starts canary instances for the weight (at least one) and sends that share, canary first', () => {
    const p = plan({});
    assert.deepEqual(p.starts, [{ revision: 2, count: 1 }]);
    assert.deepEqual(p.traffic.weights, [
      { revision: 2, weight: 10 },
      { revision: 1, weight: 90 },
    ]);
    assert.equal(p.stepIndex, 0, 'not done until the canary is ready');
    assert.equal(p.isWaiting, false);
  });

  it('setWeight is done once the canary has its size', () => {
    assert.equal(plan({ instances: [...stable4, ready('c1', 2)] }).stepIndex, 1);
  });

  it('a timed pause waits for its time from the start of the step', () => {
    const instances = [...stable4, ready('c1', 2)];
    const waiting = plan({ instances, stepIndex: 1, stepStartedAtMs: 1_000, nowMs: 30_999 });
    assert.equal(waiting.stepIndex, 1);
    assert.equal(waiting.isWaiting, true);
    assert.equal(waiting.gate, null);
    assert.deepEqual(waiting.traffic.weights?.[0], { revision: 2, weight: 10 }, 'the weight of the last setWeight holds during a pause');
    assert.equal(plan({ instances, stepIndex: 1, stepStartedAtMs: 1_000, nowMs: 31_000 }).stepIndex, 2);
  });

  it('a manual gate waits for promote however long, and says so', () => {
    const p = plan({ instances: [...stable4, ready('c1', 2), ready('c2', 2)], stepIndex: 3, nowMs: 1e9 });
    assert.equal(p.stepIndex, 3);
    assert.match(p.gate ?? '', /cutover promote web/);
    assert.equal(p.isWaiting, true);
    assert.deepEqual(p.traffic.weights, [
      { revision: 2, weight: 50 },
      { revision: 1, weight: 50 },
    ]);
  });

  it("a person's pause holds every step", () => {
    assert.equal(plan({ instances: [...stable4, ready('c1', 2)], isPaused: true }).stepIndex, 0);
    assert.equal(plan({ instances: [...stable4, ready('c1', 2)], stepIndex: 1, nowMs: 1e9, isPaused: true }).stepIndex, 1);
    const atGate = plan({ instances: [...stable4, ready('c1', 2), ready('c2', 2)], stepIndex: 3, isPaused: true });
    assert.match(atGate.gate ?? '', /promote/, 'a manual gate stays a gate while paused');
  });

  it('keeps stable at full size through every step', () => {
    const p = plan({ instances: [ready('s1', 1), ready('s2', 1), ready('c1', 2)], stepIndex: 2 });
    assert.deepEqual(p.starts, [
      { revision: 1, count: 2 },
      { revision: 2, count: 1 },
    ]);
  });

  it('setCanaryScale sets the size without changing the weight, and auto goes back', () => {
    const steps: CanaryStep[] = [{ setCanaryScale: 3 }, { setWeight: 10 }, { setCanaryScale: '50%' }, { setCanaryScale: 'auto' }];
    const p = plan({ canary: spec(steps), instances: stable4 });
    assert.deepEqual(p.starts, [{ revision: 2, count: 3 }]);
    assert.deepEqual(p.traffic.weights?.[0], { revision: 2, weight: 0 });
    assert.equal(canarySizeAt(spec(steps), steps, 1, 4), 3, 'the scale holds across setWeight');
    assert.equal(canarySizeAt(spec(steps), steps, 2, 4), 2);
    assert.equal(canarySizeAt(spec(steps), steps, 3, 4), 1);
  });

  it('a fixed canaryReplicas is used whatever the weight, capped at replicas', () => {
    assert.equal(canarySizeAt(spec(STEPS, { canaryReplicas: 2 }), STEPS, 0, 4), 2);
    assert.equal(canarySizeAt(spec(STEPS, { canaryReplicas: 9 }), STEPS, 0, 4), 4);
    assert.equal(canarySizeAt(spec(STEPS), STEPS, 2, 4), 2, 'auto: 50% of 4');
  });

  it('sends header and cookie routes, sticky assignment and mirroring to the canary while it runs', () => {
    const canary = spec(STEPS, {
      routes: [{ header: { name: 'x-beta', value: '1' } }, { cookie: { name: 'beta', value: 'yes' } }],
      sticky: { cookie: 'cc', ttlMs: 1_000 },
      mirror: { percent: 5 },
    });
    const p = plan({ canary });
    assert.deepEqual(
      p.traffic.routes.map((r) => r.revision),
      [2, 2],
    );
    assert.deepEqual(p.traffic.sticky, { cookie: 'cc', ttlMs: 1_000 });
    assert.deepEqual(p.traffic.mirror, { revision: 2, percent: 5 });
    assert.equal(plan({}).traffic.mirror, null, 'mirror 0% copies nothing');
  });

  it('after the last step grows the canary to replicas, then moves all traffic and stops stable', () => {
    const growing = plan({ instances: [...stable4, ready('c1', 2), ready('c2', 2)], stepIndex: STEPS.length });
    assert.deepEqual(growing.starts, [{ revision: 2, count: 2 }]);
    assert.equal(growing.isComplete, false);
    assert.deepEqual(growing.traffic.weights?.[0], { revision: 2, weight: 50 });
    const done = plan({ instances: [...stable4, ready('c1', 2), ready('c2', 2), ready('c3', 2), ready('c4', 2)], stepIndex: STEPS.length });
    assert.equal(done.isComplete, true);
    assert.deepEqual(done.traffic.weights, [{ revision: 2, weight: 100 }]);
    assert.deepEqual(done.stopIds.sort(), ['s1', 's2', 's3', 's4']);
  });

  it('with no steps goes straight to the final promotion', () => {
    const p = plan({ canary: spec([]) });
    assert.deepEqual(p.starts, [{ revision: 2, count: 4 }]);
  });

  it('promote passes one step; --full goes to the end; never past the end', () => {
    assert.equal(promoteCanary(0, 4, false), 1);
    assert.equal(promoteCanary(3, 4, false), 4);
    assert.equal(promoteCanary(4, 4, false), 4);
    assert.equal(promoteCanary(1, 4, true), 4);
  });

  it('weightAt and describeStep', () => {
    assert.equal(weightAt(STEPS, 0), 10);
    assert.equal(weightAt(STEPS, 1), 10);
    assert.equal(weightAt(STEPS, 3), 50);
    assert.equal(weightAt([{ pause: null }], 0), 0);
    assert.deepEqual(STEPS.map(describeStep), ['setWeight 10', 'pause 30s', 'setWeight 50', 'pause (until promoted)']);
  });

  it('simulated to the end, every step advances and traffic never leaves stable without a ready canary', () => {
    let instances: ObservedInstance[] = [...stable4];
    let stepIndex = 0;
    let stepStartedAtMs = 0;
    let next = 0;
    for (let nowMs = 0; nowMs < 1_000_000; nowMs += 1_000) {
      instances = instances.map((i) => (i.state === 'starting' ? { ...i, state: 'ready', readyAtMs: nowMs } : i));
      const p = plan({ instances, stepIndex, stepStartedAtMs, nowMs });
      if (p.isComplete) {
        assert.ok(instances.filter((i) => i.revision === 2 && i.state === 'ready').length === 4);
        return;
      }
      if (p.gate) stepIndex = promoteCanary(stepIndex, STEPS.length, false);
      else if (p.stepIndex !== stepIndex) stepIndex = p.stepIndex;
      if (stepIndex !== p.stepIndex || p.gate) stepStartedAtMs = nowMs;
      instances = instances.filter((i) => !p.stopIds.includes(i.id));
      for (const s of p.starts)
        for (let n = 0; n < s.count; n++) instances.push({ id: `n${next++}`, revision: s.revision, state: 'starting', readyAtMs: null });
      assert.equal(instances.filter((i) => i.revision === 1).length, 4, 'stable stays whole until the end');
    }
    assert.fail('never completed');
  });
});

describe('planCanary with hooks', () => {
  const pending = { isPreDeployPassed: true, isTrafficAllowed: false, isStepChecked: false };
  const checked = { isPreDeployPassed: true, isTrafficAllowed: true, isStepChecked: true };

  it("keeps the canary out of traffic (no weight, routes or mirror) until preTraffic passes, at its first step's size", () => {
    const canary = spec(STEPS, { routes: [{ header: { name: 'x-beta', value: '1' } }], mirror: { percent: 10 } });
    const starting = plan({ canary, hooks: pending });
    assert.deepEqual(starting.starts, [{ revision: 2, count: 1 }]);
    assert.equal(starting.hookPoint, null, 'not before the canary is ready');
    const p = plan({ canary, instances: [...stable4, ready('c1', 2)], hooks: pending });
    assert.equal(p.hookPoint, 'preTraffic');
    assert.equal(p.stepIndex, 0);
    assert.deepEqual(p.traffic.weights, [
      { revision: 2, weight: 0 },
      { revision: 1, weight: 100 },
    ]);
    assert.deepEqual([p.traffic.routes, p.traffic.mirror], [[], null]);
  });

  it('passes steps that give the canary no traffic before running preTraffic', () => {
    const p = plan({ canary: spec([{ setCanaryScale: 1 }, { setWeight: 10 }]), instances: [...stable4, ready('c1', 2)], hooks: pending });
    assert.equal(p.stepIndex, 1);
  });

  it('waits for postTraffic at a setWeight step once the weight is in force, then goes on', () => {
    const instances = [...stable4, ready('c1', 2)];
    const p = plan({ instances, hooks: { ...checked, isStepChecked: false } });
    assert.equal(p.hookPoint, 'postTraffic');
    assert.equal(p.stepIndex, 0);
    assert.deepEqual(p.traffic.weights, [
      { revision: 2, weight: 10 },
      { revision: 1, weight: 90 },
    ]);
    assert.equal(plan({ instances, hooks: checked }).stepIndex, 1);
    assert.equal(
      plan({ instances, stepIndex: 1, stepStartedAtMs: 0, nowMs: 60_000, hooks: { ...checked, isStepChecked: false } }).hookPoint,
      null,
      'a pause changes no traffic',
    );
  });

  it('after the final promotion keeps stable up out of traffic until postTraffic passes', () => {
    const instances = [...stable4, ready('c1', 2), ready('c2', 2), ready('c3', 2), ready('c4', 2)];
    const p = plan({ instances, stepIndex: STEPS.length, hooks: { ...checked, isStepChecked: false } });
    assert.deepEqual(p.traffic.weights, [{ revision: 2, weight: 100 }]);
    assert.deepEqual(p.stopIds, []);
    assert.equal(p.isComplete, false);
    assert.equal(p.hookPoint, 'postTraffic');
    assert.equal(plan({ instances, stepIndex: STEPS.length, hooks: checked }).isComplete, true);
  });
});
