import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeOutcome, maxEjectable, outcomeOfStatus, TRY_OUTCOMES } from './outlier-ejection.js';
import type { OutlierPolicy } from './outlier-ejection.js';

const POLICY: OutlierPolicy = { consecutiveFailures: 5, ejectForMs: 30_000 };

/** Every context with groups of 1 to 8 endpoints, counts up to 7, ejected or not. */
function* contexts() {
  for (let groupSize = 1; groupSize <= 8; groupSize++) {
    for (let ejectedInGroup = 0; ejectedInGroup <= groupSize; ejectedInGroup++) {
      for (const isEjected of [false, true]) {
        if (isEjected && ejectedInGroup === 0) continue; // an ejected endpoint counts itself
        for (let failuresInRow = 0; failuresInRow <= 7; failuresInRow++) yield { groupSize, ejectedInGroup, isEjected, failuresInRow };
      }
    }
  }
}

describe('judgeOutcome', () => {
  test('the fifth failure in a row ejects an endpoint of a group of three', () => {
    assert.deepEqual(judgeOutcome(POLICY, 'failure', { failuresInRow: 4, isEjected: false, groupSize: 3, ejectedInGroup: 0 }), {
      failuresInRow: 5,
      shouldEject: true,
    });
    assert.deepEqual(judgeOutcome(POLICY, 'failure', { failuresInRow: 3, isEjected: false, groupSize: 3, ejectedInGroup: 0 }), {
      failuresInRow: 4,
      shouldEject: false,
    });
  });

  test('over every small context: ejects exactly when the threshold is reached, it is in, and the cap leaves room', () => {
    let ejections = 0;
    for (const outcome of TRY_OUTCOMES) {
      for (const context of contexts()) {
        const judgement = judgeOutcome(POLICY, outcome, context);
        const expectedCount = outcome === 'success' ? 0 : outcome === 'failure' ? context.failuresInRow + 1 : context.failuresInRow;
        assert.equal(judgement.failuresInRow, expectedCount, JSON.stringify({ outcome, context }));
        const expected = outcome === 'failure' && !context.isEjected && expectedCount >= 5 && context.ejectedInGroup < Math.floor(context.groupSize / 2);
        assert.equal(judgement.shouldEject, expected, JSON.stringify({ outcome, context }));
        if (judgement.shouldEject) {
          ejections++;
          // Never more than half of the group out, never the last one in.
          assert.ok(context.ejectedInGroup + 1 <= context.groupSize / 2);
          assert.ok(context.groupSize - (context.ejectedInGroup + 1) >= 1);
        }
      }
    }
    assert.ok(ejections > 0);
  });

  test('the only endpoint of a revision is never ejected, however often it fails', () => {
    let failuresInRow = 0;
    for (let i = 0; i < 100; i++) {
      const judgement = judgeOutcome(POLICY, 'failure', { failuresInRow, isEjected: false, groupSize: 1, ejectedInGroup: 0 });
      assert.equal(judgement.shouldEject, false);
      failuresInRow = judgement.failuresInRow;
    }
    assert.equal(failuresInRow, 100);
  });

  test('a group whose endpoints all fail loses at most half of them, whatever the order of failures', () => {
    for (let groupSize = 1; groupSize <= 9; groupSize++) {
      const failures = new Array<number>(groupSize).fill(0);
      const ejected = new Array<boolean>(groupSize).fill(false);
      // Round robin of failures over every endpoint, many times.
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < groupSize; i++) {
          const judgement = judgeOutcome(POLICY, 'failure', {
            failuresInRow: failures[i]!,
            isEjected: ejected[i]!,
            groupSize,
            ejectedInGroup: ejected.filter(Boolean).length,
          });
          failures[i] = judgement.failuresInRow;
          if (judgement.shouldEject) ejected[i] = true;
        }
      }
      assert.equal(ejected.filter(Boolean).length, maxEjectable(groupSize), `group of ${groupSize}`);
    }
  });

  test('a success in between starts the count again', () => {
    const sequence = ['failure', 'failure', 'failure', 'failure', 'success', 'failure', 'failure', 'failure', 'failure'] as const;
    let failuresInRow = 0;
    for (const outcome of sequence) {
      const judgement = judgeOutcome(POLICY, outcome, { failuresInRow, isEjected: false, groupSize: 4, ejectedInGroup: 0 });
      assert.equal(judgement.shouldEject, false);
      failuresInRow = judgement.failuresInRow;
    }
    assert.equal(failuresInRow, 4);
  });

  test('no policy, or a threshold of 0, never ejects and never counts', () => {
    for (const policy of [undefined, { consecutiveFailures: 0, ejectForMs: 1_000 }]) {
      for (const context of contexts()) {
        assert.deepEqual(judgeOutcome(policy, 'failure', context), { failuresInRow: context.failuresInRow, shouldEject: false });
      }
    }
  });

  test('a threshold of 1 ejects on the first failure', () => {
    const judgement = judgeOutcome({ consecutiveFailures: 1, ejectForMs: 1 }, 'failure', {
      failuresInRow: 0,
      isEjected: false,
      groupSize: 2,
      ejectedInGroup: 0,
    });
    assert.deepEqual(judgement, { failuresInRow: 1, shouldEject: true });
  });
});

describe('outcomeOfStatus', () => {
  test('5xx answers are failures, everything else is a success', () => {
    for (let status = 100; status < 600; status++) assert.equal(outcomeOfStatus(status), status >= 500 ? 'failure' : 'success');
  });
});
