import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LATENCY_BUCKETS_SECONDS, METER_COUNTERS, type EndpointMeasurement } from '../model/measurements.js';
import { MeasurementHistory } from './measurement-history.js';
import { countAbove, histogramQuantile, type MeasurementCursor } from '../model/measurements.js';

function instance(requests: number, errors = 0, revision = 2, id = 'web-2-a'): EndpointMeasurement {
  const counts = METER_COUNTERS.map(() => 0);
  counts[METER_COUNTERS.indexOf('requests')] = requests;
  counts[METER_COUNTERS.indexOf('status2xx')] = requests - errors;
  counts[METER_COUNTERS.indexOf('appStatus5xx')] = errors;
  const latencyBuckets = [...LATENCY_BUCKETS_SECONDS, 0].map(() => 0);
  latencyBuckets[0] = requests;
  return { app: 'web', revision, instance: id, counts, latencyBuckets, latencySumSeconds: requests * 0.001 };
}

describe('MeasurementHistory', () => {
  test('a window holds what happened between two samples', () => {
    const history = new MeasurementHistory();
    history.record(0, [{ source: 'w1', endpoints: [instance(100, 1)], unrouted: {} }]);
    history.record(1_000, [{ source: 'w1', endpoints: [instance(300, 11)], unrouted: {} }]);
    const w = history.window('web', 2, 0);
    assert.equal(w.requests, 200);
    assert.equal(w.appStatus5xx, 10);
    assert.equal(w.windowMs, 1_000);
  });

  test('a restarted worker (its counts back at 0) loses none of the requests it counted since', () => {
    const history = new MeasurementHistory();
    history.record(0, [
      { source: 'w1', endpoints: [instance(100)], unrouted: {} },
      { source: 'w2', endpoints: [instance(50)], unrouted: {} },
    ]);
    history.record(1_000, [
      { source: 'w1', endpoints: [instance(120)], unrouted: {} },
      { source: 'w3', endpoints: [instance(7)], unrouted: {} },
    ]);
    assert.equal(history.window('web', 2, 0).requests, 27);
  });

  test('other revisions and apps are left out of a window', () => {
    const history = new MeasurementHistory();
    history.record(0, [{ source: 'w1', endpoints: [instance(0), instance(0, 0, 1, 'web-1-a')], unrouted: {} }]);
    history.record(1_000, [{ source: 'w1', endpoints: [instance(10), instance(90, 0, 1, 'web-1-a')], unrouted: { web: 3 } }]);
    assert.equal(history.window('web', 2, 0).requests, 10);
    assert.equal(history.window('web', 1, 0).requests, 90);
    assert.equal(history.window('web', null, 0).requests, 100);
    assert.equal(history.unroutedIn('web', 0), 3);
  });

  test('each poll answers what changed per revision; the first poll of a controller is a baseline', () => {
    const history = new MeasurementHistory();
    const first = history.record(0, [{ source: 'w1', endpoints: [instance(100, 1)], unrouted: { web: 2 } }]);
    assert.deepEqual(first.revisions, [], 'counts from before this controller are not news');
    assert.equal(first.unrouted.size, 0);
    assert.equal(first.cursors[0]?.endpoints.length, 1, 'but the cursor is kept');
    const second = history.record(500, [{ source: 'w1', endpoints: [instance(130, 4)], unrouted: { web: 5 } }]);
    assert.equal(second.revisions[0]?.counts[METER_COUNTERS.indexOf('requests')], 30);
    assert.equal(second.revisions[0]?.counts[METER_COUNTERS.indexOf('appStatus5xx')], 3);
    assert.equal(second.unrouted.get('web'), 3);
    const idle = history.record(1_000, [{ source: 'w1', endpoints: [instance(130, 4)], unrouted: { web: 5 } }]);
    assert.deepEqual(idle, { revisions: [], unrouted: new Map(), cursors: [] }, 'nothing to write when nothing moved');
  });

  test('a controller restored from the cursors counts on from them: nothing lost, nothing twice', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: 2, maxLength: 20 }), fc.nat(), (steps, at) => {
        const restartAt = at % steps.length;
        let history = new MeasurementHistory();
        let stored: MeasurementCursor[] = [];
        let requests = 0;
        let counted = 0;
        for (const [n, step] of steps.entries()) {
          if (n === restartAt) {
            // The controller dies; the worker keeps counting; a new one starts from what was stored.
            history = new MeasurementHistory();
            history.restore(stored);
          }
          requests += step;
          const delta = history.record(n * 500, [{ source: 'w1', endpoints: [instance(requests)], unrouted: {} }]);
          counted += delta.revisions.reduce((sum, r) => sum + (r.counts[0] ?? 0), 0);
          if (n === 0) counted += requests; // The very first poll is the baseline of everything.
          stored = mergeCursors(stored, delta.cursors);
        }
        assert.equal(counted, requests);
      }),
    );
  });
});

function mergeCursors(stored: MeasurementCursor[], changed: MeasurementCursor[]): MeasurementCursor[] {
  const bySource = new Map(stored.map((c) => [c.source, { ...c, endpoints: [...c.endpoints] }]));
  for (const c of changed) {
    const known = bySource.get(c.source) ?? { source: c.source, endpoints: [], unrouted: null };
    for (const m of c.endpoints) known.endpoints = [...known.endpoints.filter((e) => e.instance !== m.instance), m];
    if (c.unrouted !== null) known.unrouted = c.unrouted;
    bySource.set(c.source, known);
  }
  return [...bySource.values()];
}

describe('histogram quantiles', () => {
  const buckets = fc.array(fc.nat({ max: 1000 }), { minLength: LATENCY_BUCKETS_SECONDS.length + 1, maxLength: LATENCY_BUCKETS_SECONDS.length + 1 });

  test('a quantile never decreases as q grows, and stays within the buckets', () => {
    fc.assert(
      fc.property(buckets, fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }), (b, q1, q2) => {
        fc.pre(b.some((n) => n > 0));
        const [lo, hi] = q1 <= q2 ? [q1, q2] : [q2, q1];
        const a = histogramQuantile(lo, b)!;
        const c = histogramQuantile(hi, b)!;
        assert.ok(a <= c + 1e-12, `${a} > ${c}`);
        assert.ok(a >= 0 && c <= LATENCY_BUCKETS_SECONDS.at(-1)!);
      }),
    );
  });

  test('no observations: no quantile', () => {
    assert.equal(histogramQuantile(0.99, [0, 0, 0]), null);
  });

  test('the share above a bound never exceeds the observations', () => {
    fc.assert(
      fc.property(buckets, fc.double({ min: 0, max: 20, noNaN: true }), (b, bound) => {
        const above = countAbove(bound, b);
        assert.ok(above >= 0 && above <= b.reduce((x, y) => x + y, 0) + 1e-9);
      }),
    );
  });

  test('unknown-host requests are summed over workers, a restarted worker counted on, and null without a front door', () => {
    const history = new MeasurementHistory();
    history.record(0, [{ source: 'w1', endpoints: [], unrouted: {} }]);
    assert.equal(history.currentUnknownHost(), null);
    history.record(1_000, [
      { source: 'w1', endpoints: [], unrouted: {}, unknownHost: 3 },
      { source: 'w2', endpoints: [], unrouted: {}, unknownHost: 2 },
    ]);
    assert.equal(history.currentUnknownHost(), 5);
    history.record(2_000, [
      { source: 'w1', endpoints: [], unrouted: {}, unknownHost: 4 },
      { source: 'w2', endpoints: [], unrouted: {}, unknownHost: 2 },
    ]);
    assert.equal(history.currentUnknownHost(), 6);
    // w1 restarted: its count starts over at 0, so 1 is new.
    history.record(3_000, [
      { source: 'w1', endpoints: [], unrouted: {}, unknownHost: 1 },
      { source: 'w2', endpoints: [], unrouted: {}, unknownHost: 2 },
    ]);
    assert.equal(history.currentUnknownHost(), 7);
  });
});

describe('MeasurementHistory.recordUnchanged', () => {
  test('a sample taken without asking the proxy (nothing moved) keeps windows as long as a poll would', () => {
    const history = new MeasurementHistory();
    history.record(0, [{ source: 'w1', endpoints: [instance(100)], unrouted: {} }]);
    history.record(500, [{ source: 'w1', endpoints: [instance(130)], unrouted: {} }]);
    history.recordUnchanged(1_000);
    history.recordUnchanged(1_500);
    const polled = new MeasurementHistory();
    polled.record(0, [{ source: 'w1', endpoints: [instance(100)], unrouted: {} }]);
    for (const at of [500, 1_000, 1_500]) polled.record(at, [{ source: 'w1', endpoints: [instance(130)], unrouted: {} }]);
    for (const from of [0, 400, 1_000]) assert.deepEqual(history.window('web', 2, from), polled.window('web', 2, from));
    assert.equal(history.window('web', 2, 1_000).windowMs, 500);
    assert.equal(history.latestAtMs(), 1_500);
  });
});
