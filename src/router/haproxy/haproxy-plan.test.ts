import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrafficPlan } from '../../model/traffic-plan.js';
import { routedRevisions, serverWeights, stickyBuckets } from './haproxy-plan.js';

const endpoint = (id: string) => ({ id, host: '127.0.0.1', port: 1 });
const plan = (extra: Partial<TrafficPlan> = {}): TrafficPlan => ({
  app: 'web',
  version: 1,
  listen: { host: '127.0.0.1', port: 8080 },
  groups: [
    { revision: 2, weight: 10, endpoints: [endpoint('c')] },
    { revision: 1, weight: 90, endpoints: [endpoint('s1'), endpoint('s2'), endpoint('s3')] },
  ],
  ...extra,
});

describe('HAProxy weights and buckets from a plan', () => {
  it('shares a group weight among its endpoints and scales the heaviest server to 256', () => {
    assert.deepEqual(
      [...serverWeights(plan())],
      [
        ['c', 85],
        ['s1', 256],
        ['s2', 256],
        ['s3', 256],
      ],
    );
  });

  it('gives weight 0 to the endpoints of a weight-0 group', () => {
    assert.equal(
      serverWeights(
        plan({
          groups: [
            { revision: 2, weight: 0, endpoints: [endpoint('g')] },
            { revision: 1, weight: 100, endpoints: [endpoint('b')] },
          ],
        }),
      ).get('g'),
      0,
    );
  });

  it('lets groups own consecutive sticky buckets in plan order, the canary first', () => {
    const buckets = stickyBuckets(plan({ sticky: { cookie: 'c', ttlMs: 1_000 } }));
    assert.equal(buckets.length, 100);
    assert.deepEqual([buckets.filter((r) => r === 2).length, buckets.indexOf(1)], [10, 10]);
    assert.deepEqual(stickyBuckets(plan()), []);
  });

  it('names the revisions a route, preview or sticky bucket must reach', () => {
    assert.deepEqual(routedRevisions(plan({ routes: [{ revision: 2, match: { header: { name: 'x-beta', value: '1' } } }] })), [2]);
    assert.deepEqual(routedRevisions(plan({ sticky: { cookie: 'c', ttlMs: 1_000 } })), [2, 1]);
  });
});
