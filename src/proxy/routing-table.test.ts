import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { TrafficPlan } from '../model/traffic-plan.js';
import { group, makePlan } from './proxy-fixtures.js';
import { resolveProxyOptions } from './proxy-options.js';
import { MirrorLimits } from './mirror-copy.js';
import { createRoutingTable } from './routing-table.js';
import { UpstreamRegistry } from './upstream-registry.js';
import type { UpstreamTarget } from './upstream-target.js';

const registry = new UpstreamRegistry(resolveProxyOptions());
after(() => registry.close());

function createTable(plan: TrafficPlan, mirrorLimits = new MirrorLimits(32, 65_536, 10_000)) {
  return createRoutingTable(plan, registry, mirrorLimits);
}

const endpoint = (id: string, port: number) => ({ id, host: '127.0.0.1', port });

function countPicks(pick: () => UpstreamTarget | undefined, times: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const target = pick();
    assert.ok(target);
    counts[target.id] = (counts[target.id] ?? 0) + 1;
  }
  return counts;
}

describe('RoutingTable', () => {
  test('smooth weighted round robin gives a group weighted 1 against 3 exactly one pick in four', () => {
    const table = createTable(makePlan(1, [group(1, 1, [endpoint('blue', 9001)]), group(2, 3, [endpoint('green', 9002)])]));
    assert.deepEqual(
      countPicks(() => table.pick(), 400),
      { blue: 100, green: 300 },
    );
    // Interleaved, not in bursts: every window of 4 picks holds exactly one blue.
    const window = countPicks(() => table.pick(), 4);
    assert.deepEqual(window, { blue: 1, green: 3 });
    table.release();
  });

  test('groups with weight 0 or without endpoints never receive traffic', () => {
    const table = createTable(makePlan(1, [group(1, 0, [endpoint('old', 9001)]), group(2, 5, []), group(3, 2, [endpoint('new', 9002)])]));
    assert.deepEqual(
      countPicks(() => table.pick(), 20),
      { new: 20 },
    );
    table.release();
  });

  test('a plan without a group that can take traffic gives a table that is not routable', () => {
    const empty = createTable(makePlan(1, []));
    const zero = createTable(makePlan(1, [group(1, 0, [endpoint('a', 9001)])]));
    assert.equal(empty.isRoutable, false);
    assert.equal(empty.pick(), undefined);
    assert.equal(zero.isRoutable, false);
    assert.equal(zero.pick(), undefined);
    empty.release();
    zero.release();
  });

  test('the endpoint with the fewest outstanding requests is chosen and ties rotate', () => {
    const table = createTable(makePlan(1, [group(1, 1, [endpoint('a', 9001), endpoint('b', 9002), endpoint('c', 9003)])]));
    assert.deepEqual(
      countPicks(() => table.pick(), 6),
      { a: 2, b: 2, c: 2 },
    );

    const busy = table.pick();
    assert.ok(busy);
    busy.begin();
    busy.begin();
    const picks = countPicks(() => table.pick(), 6);
    assert.equal(picks[busy.id], undefined);
    busy.end();
    busy.end();
    table.release();
  });

  test('a retry takes an untried endpoint of the same group first, then one of another group', () => {
    const table = createTable(makePlan(1, [group(1, 1, [endpoint('a1', 9001), endpoint('a2', 9002)]), group(2, 1, [endpoint('b1', 9003)])]));
    const a1 = registry.acquire(endpoint('a1', 9001));
    const a2 = registry.acquire(endpoint('a2', 9002));
    assert.equal(table.pickRetry([a1], false)?.id, 'a2');
    assert.equal(table.pickRetry([a1, a2], false)?.id, 'b1');
    const b1 = table.pickRetry([a1, a2], false);
    assert.ok(b1);
    assert.equal(table.pickRetry([a1, a2, b1], false), undefined, 'every endpoint was tried');
    assert.ok(table.pickRetry([a1, a2, b1], true), 'a reset may go to an endpoint tried before');
    registry.release(a1);
    registry.release(a2);
    table.release();
  });

  test('a pool is closed once its endpoint left every table and has no request in flight', () => {
    const before = registry.poolCount;
    const first = createTable(makePlan(1, [group(1, 1, [endpoint('x', 9101)])]));
    const target = first.pick();
    assert.ok(target);
    target.begin();
    const second = createTable(makePlan(2, [group(1, 1, [endpoint('y', 9102)])]));
    first.release();
    assert.equal(registry.poolCount, before + 2, 'x still has a request in flight');
    assert.deepEqual(registry.inflight(), { x: 1 });
    target.end();
    assert.equal(registry.poolCount, before + 1);
    assert.deepEqual(registry.inflight(), {});
    second.release();
    assert.equal(registry.poolCount, before);
  });

  test('the same endpoint in two plans shares one target, so in-flight counts survive a swap', () => {
    const first = createTable(makePlan(1, [group(1, 1, [endpoint('s', 9201)])]));
    const target = first.pick();
    assert.ok(target);
    target.begin();
    const second = createTable(makePlan(2, [group(1, 1, [endpoint('s', 9201)])]));
    first.release();
    assert.equal(second.pick(), target);
    assert.equal(target.inflight, 1);
    target.end();
    second.release();
  });
});

describe('RoutingTable with routes, previews, sticky assignment and mirroring', () => {
  test('a group with weight 0 stays reachable by revision while weighted picks ignore it', () => {
    const table = createTable(makePlan(1, [group(1, 0, [endpoint('canary', 9301)]), group(2, 1, [endpoint('stable', 9302)])]));
    assert.deepEqual(
      countPicks(() => table.pick(), 10),
      { stable: 10 },
    );
    assert.equal(table.pickInRevision(1)?.id, 'canary');
    assert.equal(table.pickInRevision(3), undefined);
    table.release();
  });

  test('routes name the revision of the first matching rule and skip groups without endpoints', () => {
    const plan: TrafficPlan = {
      ...makePlan(1, [group(1, 0, [endpoint('canary', 9311)]), group(2, 1, [endpoint('stable', 9312)]), group(3, 0, [])]),
      routes: [
        { revision: 3, match: { header: { name: 'x-canary', value: '1' } } },
        { revision: 1, match: { header: { name: 'x-canary', value: '1' } } },
      ],
    };
    const table = createTable(plan);
    assert.equal(table.routes?.match({ 'x-canary': '1' }), 1);
    assert.equal(table.routes?.match({}), undefined);
    table.release();
  });

  test('a plan whose only way in is a route is routable', () => {
    const plan: TrafficPlan = {
      ...makePlan(1, [group(1, 0, [endpoint('canary', 9321)])]),
      routes: [{ revision: 1, match: { cookie: { name: 'beta', value: 'on' } } }],
    };
    const table = createTable(plan);
    assert.equal(table.isRoutable, true);
    assert.equal(table.pick(), undefined);
    table.release();
  });

  test('a sticky value always picks the same group, by its hash against the weights in plan order', () => {
    const plan = (canaryWeight: number): TrafficPlan => ({
      ...makePlan(1, [group(2, canaryWeight, [endpoint('canary', 9331)]), group(1, 100 - canaryWeight, [endpoint('stable', 9332)])]),
      sticky: { cookie: 'cv', ttlMs: 60_000 },
    });
    const at10 = createTable(plan(10));
    const at20 = createTable(plan(20));
    const at50 = createTable(plan(50));
    let onCanary = 0;
    for (let i = 0; i < 2_000; i++) {
      const value = `client-${i}`;
      const first = at10.pickSticky(value);
      assert.equal(at10.pickSticky(value), first, 'the same value picks the same group');
      if (first?.id !== 'canary') continue;
      onCanary++;
      assert.equal(at20.pickSticky(value)?.id, 'canary', 'still on the canary at weight 20');
      assert.equal(at50.pickSticky(value)?.id, 'canary', 'still on the canary at weight 50');
    }
    assert.ok(onCanary > 100 && onCanary < 300, `about 10% of 2000 clients on the canary, got ${onCanary}`);
    at10.release();
    at20.release();
    at50.release();
  });

  test('a retry of a pinned request stays inside its revision group', () => {
    const table = createTable(makePlan(1, [group(1, 0, [endpoint('c1', 9341), endpoint('c2', 9342)]), group(2, 1, [endpoint('stable', 9343)])]));
    const c1 = table.pickInRevision(1);
    assert.ok(c1);
    const c2 = table.pickRetry([c1], false, 1);
    assert.ok(c2 && c2.id !== 'c1' && c2.id.startsWith('c'));
    assert.equal(table.pickRetry([c1, c2], false, 1), undefined, 'never the stable group');
    assert.ok(table.pickRetry([c1, c2], true, 1)?.id.startsWith('c'), 'after a reset, back to an endpoint tried before');
    assert.equal(table.pickRetry([c1], false, 7), undefined, 'a revision that left the plan');
    table.release();
  });

  test('mirroring at 50 percent copies every other request served by another group, within the cap', () => {
    const limits = new MirrorLimits(2, 65_536, 10_000);
    const table = createTable(
      { ...makePlan(1, [group(1, 1, [endpoint('stable', 9351)]), group(2, 0, [endpoint('shadow', 9352)])]), mirror: { revision: 2, percent: 50 } },
      limits,
    );
    const mirror = table.mirror;
    assert.ok(mirror);
    const stable = table.pick();
    assert.ok(stable);
    assert.equal(mirror.take(stable), undefined);
    const first = mirror.take(stable);
    assert.ok(first);
    assert.equal(mirror.take(stable), undefined);
    const second = mirror.take(stable);
    assert.ok(second);
    assert.deepEqual(registry.inflight(), { shadow: 2 }, 'a copy counts in flight on the mirror endpoint');
    assert.equal(mirror.take(stable), undefined);
    assert.equal(mirror.take(stable), undefined, 'two copies in flight: the cap is reached');
    first.cancel();
    second.cancel();
    assert.equal(limits.inflight, 0);
    assert.equal(mirror.take(table.pickInRevision(2)!), undefined, 'a request served by the mirror group is not copied');
    table.release();
  });

  test('no mirror is set up for a percent <= 0 or a revision without endpoints', () => {
    const groups = [group(1, 1, [endpoint('stable', 9361)]), group(2, 0, [])];
    for (const mirror of [
      { revision: 2, percent: 50 },
      { revision: 1, percent: 0 },
      { revision: 3, percent: 10 },
    ]) {
      const table = createTable({ ...makePlan(1, groups), mirror });
      assert.equal(table.mirror, undefined);
      table.release();
    }
  });

  test('an unusable sticky cookie name is refused before any endpoint is acquired', () => {
    const before = registry.poolCount;
    assert.throws(() => createTable({ ...makePlan(1, [group(1, 1, [endpoint('z', 9371)])]), sticky: { cookie: 'bad name', ttlMs: 1_000 } }), {
      code: 'PROXY_INVALID_PLAN',
    });
    assert.equal(registry.poolCount, before);
  });
});
