import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeasurementHistory } from '../analysis/measurement-history.js';
import { LATENCY_BUCKETS_SECONDS, METER_COUNTERS, type SourcedMeasurements } from '../model/measurements.js';
import type { TrafficRouter } from '../router/traffic-router.js';
import type { Store } from '../store/store.js';
import { Housekeeping } from './housekeeping.js';
import type { StorageGuard } from './storage-guard.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A data plane with one instance whose request count the test sets; it counts how often it is read. */
function fakeProxy(): { router: TrafficRouter; reads: () => number; serve: (requests: number) => void } {
  let requests = 0;
  let reads = 0;
  let moved: () => void = () => {};
  const counts = (): SourcedMeasurements[] => {
    const c = METER_COUNTERS.map(() => 0);
    c[METER_COUNTERS.indexOf('requests')] = requests;
    return [
      {
        source: 'worker-1',
        endpoints: [
          { app: 'web', revision: 1, instance: 'web-1-a', counts: c, latencyBuckets: [...LATENCY_BUCKETS_SECONDS, 0].map(() => 0), latencySumSeconds: 0 },
        ],
        unrouted: {},
      },
    ];
  };
  const router: TrafficRouter = {
    applyPlan: async () => {},
    removeApp: async () => {},
    inflight: async () => ({}),
    measurements: async () => {
      reads += 1;
      return counts();
    },
    onMeasurementsMoved: (listener) => (moved = listener),
  };
  return {
    router,
    reads: () => reads,
    serve: (n) => {
      requests += n;
      moved();
    },
  };
}

function housekeepingOf(router: TrafficRouter, history: MeasurementHistory): Housekeeping {
  const store = { prune: () => [], listMeasurementCursors: () => [], addTraffic: () => {} } as unknown as Store;
  return new Housekeeping({ store, router, history, storage: { fault: null } as StorageGuard, now: () => performance.now(), log: () => {} });
}

describe('Housekeeping', () => {
  it('stops reading the proxy once its counts stay still, and reads it at once when they move', async () => {
    const proxy = fakeProxy();
    const history = new MeasurementHistory();
    const housekeeping = housekeepingOf(proxy.router, history);
    housekeeping.start();
    try {
      await sleep(1_800);
      const atRest = proxy.reads();
      assert.ok(atRest >= 2, `precondition: the proxy was read at start and until it proved still (${atRest} reads)`);
      await sleep(1_500);
      assert.equal(proxy.reads(), atRest, 'no read while nothing moved');
      const windowAtRest = history.window('web', 1, performance.now() - 1_000);
      assert.ok(windowAtRest.windowMs >= 500, `samples go on without reads: a window keeps its length (${windowAtRest.windowMs} ms)`);
      proxy.serve(7);
      await sleep(50);
      assert.equal(proxy.reads(), atRest + 1, 'moved counts are read at once');
      assert.equal(history.window('web', 1, performance.now() - 1_000).requests, 7);
    } finally {
      housekeeping.stop();
    }
  });

  it('polls a router that cannot say when its counts moved, as before', async () => {
    const proxy = fakeProxy();
    const { onMeasurementsMoved: _dropped, ...pollOnly } = proxy.router;
    const housekeeping = housekeepingOf(pollOnly, new MeasurementHistory());
    housekeeping.start();
    try {
      await sleep(2_700);
      assert.ok(proxy.reads() >= 5, `read every 500 ms (${proxy.reads()} reads)`);
    } finally {
      housekeeping.stop();
    }
  });
});
