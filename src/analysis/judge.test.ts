import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { AnalysisTemplateSpec } from '../model/app-spec.js';
import { compareWithBaseline, formatCount, holds, judgeMeasurement, judgeRun, negate, parseCondition, MEASUREMENT_RESULTS, type Measurement } from './judge.js';

const template: Pick<AnalysisTemplateSpec, 'provider' | 'successCondition' | 'failureCondition' | 'minRequests' | 'baseline' | 'metric'> = {
  provider: 'builtin',
  metric: 'successRate',
  successCondition: '>= 0.99',
  failureCondition: null,
  minRequests: 100,
  baseline: null,
};

function measured(value: number, sampleSize: number): Measurement {
  return { value, sampleSize, baseline: null, error: null, subject: 'canary success rate' };
}

const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
const operator = fc.constantFrom('>=', '<=', '>', '<', '==', '!=');

describe('conditions', () => {
  test('a condition holds exactly when its comparison does', () => {
    fc.assert(
      fc.property(operator, finite, finite, (op, threshold, value) => {
        const condition = parseCondition(`${op} ${threshold}`);
        const expected = {
          '>=': value >= threshold,
          '<=': value <= threshold,
          '>': value > threshold,
          '<': value < threshold,
          '==': value === threshold,
          '!=': value !== threshold,
        }[op];
        assert.equal(holds(condition, value), expected);
      }),
    );
  });

  test('the negated operator holds exactly when the condition does not', () => {
    fc.assert(
      fc.property(operator, finite, finite, (op, threshold, value) => {
        const condition = parseCondition(`${op} ${threshold}`);
        assert.equal(holds({ ...condition, operator: negate(condition) }, value), !holds(condition, value));
      }),
    );
  });

  test('a measurement is failed exactly when its value breaks the success condition (enough requests)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 100, max: 1e6 }), (value, n) => {
        assert.equal(judgeMeasurement(template, measured(value, n)).result, value >= 0.99 ? 'successful' : 'failed');
      }),
    );
  });

  test('fewer requests than minRequests is inconclusive whatever the value, never a pass', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 99 }), (value, n) => {
        assert.equal(judgeMeasurement(template, measured(value, n)).result, 'inconclusive');
      }),
    );
  });

  test('the sentence names the value, the sample size and the bound', () => {
    const verdict = judgeMeasurement(template, {
      ...measured(0.93, 412),
      baseline: { value: 0.999, sampleSize: 3702, counts: { canaryBad: 29, canaryTotal: 412, stableBad: 4, stableTotal: 3702 } },
    });
    assert.equal(verdict.result, 'failed');
    assert.equal(verdict.sentence, 'canary success rate 0.93 over 412 requests < 0.99; stable 0.999 over 3,702');
  });

  test('a provider error is an error, not a failure', () => {
    assert.equal(judgeMeasurement(template, { ...measured(0, 0), value: null, error: 'connect ECONNREFUSED' }).result, 'error');
  });
});

describe('runs', () => {
  const results = fc.array(fc.constantFrom(...MEASUREMENT_RESULTS), { maxLength: 30 });
  const limits = fc.record({
    count: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
    failureLimit: fc.integer({ min: 0, max: 5 }),
    consecutiveErrorLimit: fc.integer({ min: 0, max: 5 }),
    inconclusiveLimit: fc.integer({ min: 0, max: 5 }),
  });

  test('more failures than failureLimit always fail the run', () => {
    fc.assert(
      fc.property(limits, results, (l, r) => {
        const failures = r.filter((x) => x === 'failed').length;
        assert.equal(judgeRun(l, r).phase === 'failed', failures > l.failureLimit);
      }),
    );
  });

  test('a run that failed stays failed whatever comes after', () => {
    fc.assert(
      fc.property(limits, results, results, (l, first, more) => {
        fc.pre(judgeRun(l, first).phase === 'failed');
        assert.equal(judgeRun(l, [...first, ...more]).phase, 'failed');
      }),
    );
  });

  test('successful only when count is reached, nothing exceeded a limit and something passed', () => {
    fc.assert(
      fc.property(limits, results, (l, r) => {
        const { phase } = judgeRun(l, r);
        if (phase !== 'successful') return;
        assert.ok(l.count !== null && r.length >= l.count);
        assert.ok(r.includes('successful'));
        assert.ok(r.filter((x) => x === 'failed').length <= l.failureLimit);
      }),
    );
  });

  test('an open-ended run (background) never ends successful', () => {
    fc.assert(fc.property(limits, results, (l, r) => assert.notEqual(judgeRun({ ...l, count: null }, r).phase, 'successful')));
  });

  test('consecutive errors beyond the limit make the run inconclusive', () => {
    assert.equal(
      judgeRun({ count: 10, failureLimit: 0, consecutiveErrorLimit: 2, inconclusiveLimit: 0 }, ['successful', 'error', 'error', 'error']).phase,
      'inconclusive',
    );
    assert.equal(
      judgeRun({ count: 10, failureLimit: 0, consecutiveErrorLimit: 2, inconclusiveLimit: 0 }, ['error', 'error', 'successful', 'error']).phase,
      'running',
    );
  });
});

describe('baseline comparison', () => {
  const counts = fc.record({
    n: fc.integer({ min: 100, max: 100_000 }),
    m: fc.integer({ min: 100, max: 100_000 }),
    rate: fc.double({ min: 0, max: 0.5, noNaN: true }),
  });

  test('equal error rates never fail', () => {
    fc.assert(
      fc.property(counts, fc.double({ min: 1, max: 10, noNaN: true }), ({ n, m, rate }, maxRatio) => {
        const result = compareWithBaseline(
          { canaryBad: Math.round(n * rate), canaryTotal: n, stableBad: Math.round(m * rate), stableTotal: m },
          maxRatio,
          50,
          true,
        ).result;
        // Rounding may tip a hair over the bound; never as far as significant.
        assert.notEqual(result, 'failed');
      }),
    );
  });

  test('a canary better than stable always passes', () => {
    fc.assert(
      fc.property(counts, fc.double({ min: 0, max: 1, noNaN: true }), ({ n, m, rate }, better) => {
        const canaryBad = Math.floor(n * rate * better);
        const stableRate = rate;
        fc.pre(canaryBad / n <= Math.round(m * stableRate) / m);
        assert.equal(
          compareWithBaseline({ canaryBad, canaryTotal: n, stableBad: Math.round(m * stableRate), stableTotal: m }, 1, 50, true).result,
          'successful',
        );
      }),
    );
  });

  test('a clear difference fails once the samples are large enough', () => {
    // 20 % errors against 0.1 %, bound 1.5×.
    assert.equal(compareWithBaseline({ canaryBad: 40, canaryTotal: 200, stableBad: 2, stableTotal: 2000 }, 1.5, 100, true).result, 'failed');
  });

  test('the same difference on small samples is inconclusive', () => {
    assert.equal(compareWithBaseline({ canaryBad: 2, canaryTotal: 20, stableBad: 1, stableTotal: 200 }, 1.5, 10, true).result, 'inconclusive');
    assert.equal(compareWithBaseline({ canaryBad: 40, canaryTotal: 200, stableBad: 2, stableTotal: 2000 }, 1.5, 500, true).result, 'inconclusive');
  });

  test('a difference becomes significant as samples grow, never the other way', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 2000 }), fc.integer({ min: 2, max: 20 }), (n, k) => {
        const small = compareWithBaseline({ canaryBad: Math.round(n * 0.1), canaryTotal: n, stableBad: Math.round(n * 0.02), stableTotal: n }, 1.5, 50, true);
        const large = compareWithBaseline(
          { canaryBad: Math.round(n * k * 0.1), canaryTotal: n * k, stableBad: Math.round(n * k * 0.02), stableTotal: n * k },
          1.5,
          50,
          true,
        );
        assert.ok(large.z >= small.z - 1e-9);
        if (small.result === 'failed') assert.equal(large.result, 'failed');
      }),
    );
  });
});

describe('formatCount', () => {
  test('groups thousands with commas as en-US does, for any count (it does not load ICU for it)', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(999), '999');
    assert.equal(formatCount(3702), '3,702');
    assert.equal(formatCount(1234567.6), '1,234,568');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.double({ min: 0, max: 0.49, noNaN: true }), (n, fraction) => {
        assert.equal(formatCount(n + fraction), Math.round(n + fraction).toLocaleString('en-US'));
      }),
    );
  });
});
