import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RolloutRecord } from '../model/records.js';
import { isPromoteApplied } from './wait-for-promote.js';

function rollout(fields: Partial<RolloutRecord>): RolloutRecord {
  return { phase: 'progressing', stepIndex: 2, gate: null, pausedAt: null, ...fields } as RolloutRecord;
}

describe('isPromoteApplied', () => {
  const promoted = rollout({ stepIndex: 2 });

  it('a scaling step is applied only once passed, even while nothing is starting yet', () => {
    assert.equal(isPromoteApplied(promoted, rollout({ stepIndex: 2 }), false, 'setWeight 50'), false);
    assert.equal(isPromoteApplied(promoted, rollout({ stepIndex: 2 }), true, 'setCanaryScale 2'), false);
    assert.equal(isPromoteApplied(promoted, rollout({ stepIndex: 3 }), false, 'pause (until promoted)'), true);
  });

  it('a step that waits on purpose is applied once nothing starts', () => {
    assert.equal(isPromoteApplied(promoted, rollout({ stepIndex: 2 }), true, 'pause 30s'), false);
    assert.equal(isPromoteApplied(promoted, rollout({ stepIndex: 2 }), false, 'pause 30s'), true);
    assert.equal(isPromoteApplied(promoted, rollout({ stepIndex: 2 }), false, 'analysis errors'), true);
  });

  it('a gate, a pause by a person or the end applies it at once', () => {
    assert.equal(isPromoteApplied(promoted, rollout({ gate: 'canary at 50%' }), true, 'setWeight 50'), true);
    assert.equal(isPromoteApplied(promoted, rollout({ pausedAt: 1 }), true, 'setWeight 50'), true);
    assert.equal(isPromoteApplied(promoted, rollout({ phase: 'rolled-back' }), true, 'setWeight 50'), true);
  });
});
