/**
 * Property-based tests (fast-check) of routing: for any plan, picks follow the weights exactly
 * over a whole cycle, never land on a weight-0 group or outside the plan, and retries never
 * repeat an endpoint unless allowed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RevisionGroup, TrafficPlan } from '../model/traffic-plan.js';
import { MirrorLimits } from './mirror-copy.js';
import { resolveProxyOptions } from './proxy-options.js';
import { createRoutingTable } from './routing-table.js';
import { UpstreamRegistry } from './upstream-registry.js';

const groupsArbitrary = fc
  .array(fc.record({ weight: fc.integer({ min: 0, max: 20 }), endpoints: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 4 })
  .map((groups): RevisionGroup[] =>
    groups.map((g, revision) => ({
      revision: revision + 1,
      weight: g.weight,
      endpoints: Array.from({ length: g.endpoints }, (_, n) => ({ id: `r${revision + 1}-e${n}`, host: '127.0.0.1', port: 20_000 + revision * 10 + n })),
    })),
  );

function planOf(groups: RevisionGroup[]): TrafficPlan {
  return { app: 'web', version: 1, listen: { host: '127.0.0.1', port: 0 }, groups };
}

describe('routing (properties)', () => {
  test('over one cycle of total weight, each routable group gets exactly its weight', async () => {
    const registry = new UpstreamRegistry(resolveProxyOptions());
    try {
      fc.assert(
        fc.property(groupsArbitrary, (groups) => {
          const table = createRoutingTable(planOf(groups), registry, new MirrorLimits(32, 65_536, 10_000));
          const routable = groups.filter((g) => g.weight > 0 && g.endpoints.length > 0);
          const total = routable.reduce((sum, g) => sum + g.weight, 0);
          assert.equal(table.isRoutable, routable.length > 0);
          const counts = new Map<number, number>();
          for (let i = 0; i < total; i++) {
            const target = table.pick();
            assert.ok(target !== undefined);
            const revision = Number(/^r(\d+)-/.exec(target.id)![1]);
            counts.set(revision, (counts.get(revision) ?? 0) + 1);
          }
          for (const g of routable) assert.equal(counts.get(g.revision) ?? 0, g.weight, `revision ${g.revision}`);
          for (const revision of counts.keys())
            assert.ok(
              routable.some((g) => g.revision === revision),
              `revision ${revision} is not routable`,
            );
          table.release();
        }),
      );
    } finally {
      await registry.close();
    }
  });

  test('a retry never picks an endpoint already tried unless repeating is allowed, and stays in routable groups', async () => {
    const registry = new UpstreamRegistry(resolveProxyOptions());
    try {
      fc.assert(
        fc.property(groupsArbitrary, fc.integer({ min: 1, max: 6 }), fc.boolean(), (groups, triesWanted, mayRepeat) => {
          const table = createRoutingTable(planOf(groups), registry, new MirrorLimits(32, 65_536, 10_000));
          const first = table.pick();
          if (first === undefined) {
            table.release();
            return;
          }
          const tried = [first];
          const routableIds = new Set(groups.filter((g) => g.weight > 0).flatMap((g) => g.endpoints.map((e) => e.id)));
          for (let i = 1; i < triesWanted; i++) {
            const next = table.pickRetry(tried, mayRepeat);
            if (next === undefined) {
              assert.equal(mayRepeat, false);
              assert.equal(tried.length, routableIds.size, 'no retry only once every endpoint was tried');
              break;
            }
            assert.ok(routableIds.has(next.id), `${next.id} is not in a routable group`);
            if (!mayRepeat || tried.length < routableIds.size) assert.ok(!tried.includes(next), `${next.id} was tried already`);
            tried.push(next);
          }
          table.release();
        }),
      );
    } finally {
      await registry.close();
    }
  });
});
