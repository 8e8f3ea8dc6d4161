import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { phasesOfGenerations } from './report-by-plan.js';
import type { PlanGeneration } from '../model/records.js';

const plan = (generation: number, at: number): PlanGeneration => ({ generation, app: 'web', at, shares: [{ revision: 1, weight: 100, instances: 1 }] });

describe('phasesOfGenerations', () => {
  test('before is the plan in force at the start, during every plan the rollout made but its last, after its last and any later', () => {
    const phases = phasesOfGenerations([plan(4, 900), plan(5, 1_000), plan(6, 1_200), plan(7, 1_300), plan(8, 5_000)], 1_000, 1_300);
    assert.deepEqual(Object.fromEntries(Object.entries(phases).map(([phase, list]) => [phase, list.map((g) => g.generation)])), {
      before: [4],
      during: [5, 6],
      after: [7, 8],
    });
  });

  test('a rollout of a single plan has it as its after phase; a first deploy has no before', () => {
    const phases = phasesOfGenerations([plan(1, 1_000)], 1_000, 1_300);
    assert.deepEqual(phases.before, []);
    assert.deepEqual(phases.during, []);
    assert.deepEqual(
      phases.after.map((g) => g.generation),
      [1],
    );
  });
});
