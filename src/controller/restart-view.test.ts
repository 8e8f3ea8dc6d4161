import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EQUAL_SHARES, type ObservedInstance, type StrategyPlan } from '../strategies/strategy-plan.js';
import { RESTART_OLD_REVISION, restartPlan, restartTraffic, restartView } from './restart-view.js';

const ready = (id: string, rolloutId: number | null): ObservedInstance => ({ id, revision: 3, state: 'ready', readyAtMs: 0, rolloutId });
const plan = (over: Partial<StrategyPlan>): StrategyPlan => ({
  starts: [],
  stopIds: [],
  traffic: EQUAL_SHARES,
  stepIndex: 0,
  isComplete: false,
  step: '',
  gate: null,
  isWaiting: false,
  hookPoint: null,
  ...over,
});
const serving = (id: string) => ({ id, revision: 3, host: '127.0.0.1', port: 1 });

describe('a restart as the planners see it', () => {
  it('shows the instances the rollout did not start as the old pseudo-revision', () => {
    const view = restartView([ready('a', null), ready('b', 7), ready('c', 6)], 7);
    assert.deepEqual(
      view.map((i) => [i.id, i.revision]),
      [
        ['a', RESTART_OLD_REVISION],
        ['b', 3],
        ['c', RESTART_OLD_REVISION],
      ],
    );
  });

  it('never starts old instances again, and ends only once every old one is stopped', () => {
    const view = restartView([ready('a', null), ready('b', 7)], 7);
    const done = restartPlan(
      plan({
        isComplete: true,
        starts: [
          { revision: 0, count: 1 },
          { revision: 3, count: 1 },
        ],
        step: 'switched: green (revision 3) serves all traffic; blue (revision 0) left',
      }),
      view,
    );
    assert.deepEqual(done.starts, [{ revision: 3, count: 1 }]);
    assert.deepEqual(done.stopIds, ['a']);
    assert.equal(done.isComplete, false);
    assert.equal(done.step, 'switched: green (revision 3) serves all traffic; blue (old processes) left');
    const gone = restartPlan(plan({ isComplete: true }), restartView([ready('b', 7)], 7));
    assert.equal(gone.isComplete, true);
  });

  it('serves only the side the planner weighs, as one group of the real revision', () => {
    const old = new Set(['a']);
    const beforeSwitch = restartTraffic(
      {
        ...EQUAL_SHARES,
        weights: [
          { revision: 3, weight: 0 },
          { revision: 0, weight: 100 },
        ],
        previews: [{ listen: { host: '127.0.0.1', port: 9 }, revision: 3 }],
      },
      [serving('a'), serving('b')],
      old,
      3,
    );
    assert.deepEqual(
      beforeSwitch.serving.map((i) => i.id),
      ['a'],
    );
    assert.equal(beforeSwitch.intent.weights, null);
    assert.deepEqual(beforeSwitch.intent.previews, [{ listen: { host: '127.0.0.1', port: 9 }, revision: 3 }]);
    const rolling = restartTraffic(EQUAL_SHARES, [serving('a'), serving('b')], old, 3);
    assert.deepEqual(
      rolling.serving.map((i) => i.id),
      ['a', 'b'],
    );
  });
});
