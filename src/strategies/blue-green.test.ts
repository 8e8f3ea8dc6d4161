import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BlueGreenSpec } from '../model/spec.js';
import { BLUE_GREEN_PREVIEW_STEP, BLUE_GREEN_SWITCH_STEP, planBlueGreen, promoteBlueGreen, type BlueGreenInput } from './blue-green.js';
import type { ObservedInstance } from './strategy-plan.js';

const spec = (overrides: Partial<BlueGreenSpec> = {}): BlueGreenSpec => ({
  preview: { header: { name: 'x-cutover-preview', value: '1' }, listen: null },
  autoPromoteMs: null,
  scaleDownDelayMs: 30_000,
  abortScaleDownDelayMs: 30_000,
  previewReplicas: null,
  progressDeadlineMs: 600_000,
  ...overrides,
});

const ready = (id: string, revision: number, readyAtMs = 0): ObservedInstance => ({ id, revision, state: 'ready', readyAtMs });
const starting = (id: string, revision: number): ObservedInstance => ({ id, revision, state: 'starting', readyAtMs: null });
const blue3 = [ready('b1', 1), ready('b2', 1), ready('b3', 1)];

function plan(overrides: Partial<BlueGreenInput>) {
  return planBlueGreen({
    app: 'web',
    replicas: 3,
    blueGreen: spec(),
    blue: 1,
    green: 2,
    instances: blue3,
    stepIndex: BLUE_GREEN_PREVIEW_STEP,
    isPaused: false,
    nowMs: 1_000,
    ...overrides,
  });
}

describe('planBlueGreen', () => {
  it('starts green at full size beside blue, which keeps all traffic', () => {
    const p = plan({});
    assert.deepEqual(p.starts, [{ revision: 2, count: 3 }]);
    assert.deepEqual(p.stopIds, []);
    assert.deepEqual(p.traffic.weights, [
      { revision: 2, weight: 0 },
      { revision: 1, weight: 100 },
    ]);
    assert.equal(p.isComplete, false);
    assert.equal(p.gate, null);
    assert.equal(p.isWaiting, false, 'starting green is progress the deadline watches');
  });

  it('starts only previewReplicas before the switch', () => {
    assert.deepEqual(plan({ blueGreen: spec({ previewReplicas: 1 }) }).starts, [{ revision: 2, count: 1 }]);
  });

  it('routes the preview header and the preview listener to green only', () => {
    const listen = { host: '127.0.0.1', port: 8081 };
    const p = plan({ blueGreen: spec({ preview: { header: { name: 'x-p', value: 'yes' }, listen } }) });
    assert.deepEqual(p.traffic.routes, [{ revision: 2, match: { header: { name: 'x-p', value: 'yes' } } }]);
    assert.deepEqual(p.traffic.previews, [{ listen, revision: 2 }]);
  });

  it('waits at a manual gate once green is ready, and does not switch', () => {
    const p = plan({ instances: [...blue3, ready('g1', 2), ready('g2', 2), ready('g3', 2)] });
    assert.match(p.gate ?? '', /cutover promote web/);
    assert.equal(p.isWaiting, true);
    assert.equal(p.stepIndex, BLUE_GREEN_PREVIEW_STEP);
    assert.equal(p.isComplete, false);
    assert.deepEqual(p.traffic.weights?.find((w) => w.revision === 1)?.weight, 100);
  });

  it('promotes by itself after green has been ready for autoPromote', () => {
    const instances = [...blue3, ready('g1', 2, 500), ready('g2', 2, 900), ready('g3', 2, 700)];
    const early = plan({ instances, blueGreen: spec({ autoPromoteMs: 1_000 }), nowMs: 1_800 });
    assert.equal(early.stepIndex, BLUE_GREEN_PREVIEW_STEP, 'the last preview instance became ready at 900');
    assert.equal(early.gate, null);
    assert.equal(early.isWaiting, true);
    const due = plan({ instances, blueGreen: spec({ autoPromoteMs: 1_000 }), nowMs: 1_900 });
    assert.equal(due.stepIndex, BLUE_GREEN_SWITCH_STEP);
  });

  it('does not pass the gate while paused by a person', () => {
    const p = plan({ instances: [...blue3, ready('g1', 2, 0), ready('g2', 2, 0), ready('g3', 2, 0)], blueGreen: spec({ autoPromoteMs: 0 }), isPaused: true });
    assert.equal(p.stepIndex, BLUE_GREEN_PREVIEW_STEP);
  });

  it('after promote, grows green to replicas before the switch', () => {
    const p = plan({ blueGreen: spec({ previewReplicas: 1 }), instances: [...blue3, ready('g1', 2)], stepIndex: BLUE_GREEN_SWITCH_STEP });
    assert.deepEqual(p.starts, [{ revision: 2, count: 2 }]);
    assert.equal(p.isComplete, false);
    assert.deepEqual(p.traffic.weights?.find((w) => w.revision === 1)?.weight, 100, 'blue keeps the traffic until green is whole');
  });

  it('switches all traffic to green in one plan, dropping preview routes, and keeps blue running', () => {
    const p = plan({ instances: [...blue3, ready('g1', 2), ready('g2', 2), ready('g3', 2)], stepIndex: BLUE_GREEN_SWITCH_STEP });
    assert.equal(p.isComplete, true);
    assert.deepEqual(p.traffic.weights, [{ revision: 2, weight: 100 }]);
    assert.deepEqual(p.traffic.routes, []);
    assert.deepEqual(p.traffic.previews, []);
    assert.deepEqual(p.stopIds, [], 'blue stays warm; the controller stops it after scaleDownDelay');
  });

  it('replaces a blue instance that died during the preview, and stops instances of other revisions', () => {
    const p = plan({ instances: [ready('b1', 1), ready('b2', 1), ready('old', 7), starting('g1', 2), starting('g2', 2), starting('g3', 2)] });
    assert.deepEqual(p.starts, [{ revision: 1, count: 1 }]);
    assert.deepEqual(p.stopIds, ['old']);
  });

  it('stops surplus green instances, starting ones first', () => {
    const p = plan({ blueGreen: spec({ previewReplicas: 1 }), instances: [...blue3, starting('g1', 2), ready('g2', 2)] });
    assert.deepEqual(p.stopIds, ['g1']);
  });

  it('promote moves past the gate and never backwards', () => {
    assert.equal(promoteBlueGreen(BLUE_GREEN_PREVIEW_STEP), BLUE_GREEN_SWITCH_STEP);
    assert.equal(promoteBlueGreen(BLUE_GREEN_SWITCH_STEP), BLUE_GREEN_SWITCH_STEP);
  });
});

describe('planBlueGreen with hooks', () => {
  const green3 = [ready('g1', 2), ready('g2', 2), ready('g3', 2)];
  const pending = { isPreDeployPassed: true, isTrafficAllowed: false, isStepChecked: false };

  it('runs preTraffic once green is ready for preview, before the gate', () => {
    const p = plan({ instances: [...blue3, ...green3], hooks: pending });
    assert.equal(p.hookPoint, 'preTraffic');
    assert.equal(p.gate, null, 'no gate before the hooks passed');
    assert.deepEqual(p.traffic.weights, [
      { revision: 2, weight: 0 },
      { revision: 1, weight: 100 },
    ]);
    assert.equal(p.traffic.routes.length, 1, 'preview traffic reaches green meanwhile');
    assert.equal(plan({ instances: [...blue3, ...green3], hooks: { ...pending, isTrafficAllowed: true } }).gate !== null, true);
  });

  it('does not auto-promote or switch before preTraffic passed, even when promoted', () => {
    assert.equal(plan({ instances: [...blue3, ...green3], blueGreen: spec({ autoPromoteMs: 0 }), hooks: pending }).stepIndex, BLUE_GREEN_PREVIEW_STEP);
    const promoted = plan({ instances: [...blue3, ...green3], stepIndex: BLUE_GREEN_SWITCH_STEP, hooks: pending });
    assert.equal(promoted.hookPoint, 'preTraffic');
    assert.equal(promoted.isComplete, false);
    assert.deepEqual(promoted.traffic.weights, [
      { revision: 2, weight: 0 },
      { revision: 1, weight: 100 },
    ]);
  });

  it('switches, then waits for postTraffic before it completes', () => {
    const p = plan({ instances: [...blue3, ...green3], stepIndex: BLUE_GREEN_SWITCH_STEP, hooks: { ...pending, isTrafficAllowed: true } });
    assert.deepEqual(p.traffic.weights, [{ revision: 2, weight: 100 }]);
    assert.equal(p.hookPoint, 'postTraffic');
    assert.equal(p.isComplete, false);
    assert.deepEqual(p.stopIds, [], 'blue stays up for a rollback');
  });
});
