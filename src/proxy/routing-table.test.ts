import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { group, makePlan } from './proxy-fixtures.js';
import { resolveProxyOptions } from './proxy-options.js';
import { createRoutingTable } from './routing-table.js';
import { UpstreamRegistry } from './upstream-registry.js';
import type { UpstreamTarget } from './upstream-target.js';

const registry = new UpstreamRegistry(resolveProxyOptions());
after(() => registry.close());

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
    const table = createRoutingTable(
      makePlan(1, [group(1, 1, [endpoint('blue', 9001)]), group(2, 3, [endpoint('green', 9002)])]),
      registry,
    );
    assert.deepEqual(countPicks(() => table.pick(), 400), { blue: 100, green: 300 });
    // Interleaved, not in bursts: every window of 4 picks holds exactly one blue.
    const window = countPicks(() => table.pick(), 4);
    assert.deepEqual(window, { blue: 1, green: 3 });
    table.release();
  });

  test('groups with weight 0 or without endpoints never receive traffic', () => {
    const table = createRoutingTable(
      makePlan(1, [group(1, 0, [endpoint('old', 9001)]), group(2, 5, []), group(3, 2, [endpoint('new', 9002)])]),
      registry,
    );
    assert.deepEqual(countPicks(() => table.pick(), 20), { new: 20 });
    table.release();
  });

  test('a plan without a group that can take traffic gives a table that is not routable', () => {
    const empty = createRoutingTable(makePlan(1, []), registry);
    const zero = createRoutingTable(makePlan(1, [group(1, 0, [endpoint('a', 9001)])]), registry);
    assert.equal(empty.isRoutable, false);
    assert.equal(empty.pick(), undefined);
    assert.equal(zero.isRoutable, false);
    assert.equal(zero.pick(), undefined);
    empty.release();
    zero.release();
  });

  test('the endpoint with the fewest outstanding requests is chosen and ties rotate', () => {
    const table = createRoutingTable(
      makePlan(1, [group(1, 1, [endpoint('a', 9001), endpoint('b', 9002), endpoint('c', 9003)])]),
      registry,
    );
    assert.deepEqual(countPicks(() => table.pick(), 6), { a: 2, b: 2, c: 2 });

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
    const table = createRoutingTable(
      makePlan(1, [group(1, 1, [endpoint('a1', 9001), endpoint('a2', 9002)]), group(2, 1, [endpoint('b1', 9003)])]),
      registry,
    );
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
    const first = createRoutingTable(makePlan(1, [group(1, 1, [endpoint('x', 9101)])]), registry);
    const target = first.pick();
    assert.ok(target);
    target.begin();
    const second = createRoutingTable(makePlan(2, [group(1, 1, [endpoint('y', 9102)])]), registry);
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
    const first = createRoutingTable(makePlan(1, [group(1, 1, [endpoint('s', 9201)])]), registry);
    const target = first.pick();
    assert.ok(target);
    target.begin();
    const second = createRoutingTable(makePlan(2, [group(1, 1, [endpoint('s', 9201)])]), registry);
    first.release();
    assert.equal(second.pick(), target);
    assert.equal(target.inflight, 1);
    target.end();
    second.release();
  });
});
