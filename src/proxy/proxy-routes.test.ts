import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteRule, TrafficPlan } from '../model/traffic-plan.js';
import { countBodies, group, makePlan, namedUpstream, refusedPort, send, sendMany, startProxy } from '../../test/helpers/proxy-fixtures.js';
import type { TestUpstream } from '../../test/helpers/proxy-fixtures.js';

const HEADER_ROUTE: RouteRule = { revision: 2, match: { header: { name: 'X-Canary', value: 'always' } } };
const COOKIE_ROUTE: RouteRule = { revision: 2, match: { cookie: { name: 'beta', value: 'on' } } };

function routedPlan(version: number, canary: TestUpstream, stable: TestUpstream, routes: RouteRule[]): TrafficPlan {
  return { ...makePlan(version, [group(2, 0, [canary.endpoint('canary')]), group(1, 100, [stable.endpoint('stable')])]), routes };
}

describe('ProxyServer routes', () => {
  test('header and cookie routes reach the canary at weight 0; other requests stay on stable', async () => {
    const canary = await namedUpstream('canary');
    const stable = await namedUpstream('stable');
    const proxy = await startProxy(routedPlan(1, canary, stable, [HEADER_ROUTE, COOKIE_ROUTE]));
    try {
      const headers: Record<string, string>[] = [
        { 'x-canary': 'always' },
        { 'X-CANARY': 'always' },
        { cookie: 'beta=on' },
        { cookie: 'theme=dark;  beta="on" ; x=1' },
      ];
      for (const routed of headers) assert.equal((await send(proxy.port, { headers: routed })).text, 'canary', JSON.stringify(routed));
      const unrouted: Record<string, string>[] = [{}, { 'x-canary': 'ALWAYS' }, { cookie: 'beta=off' }, { cookie: 'xbeta=on; beta' }, { 'x-beta': 'on' }];
      for (const other of unrouted) assert.equal((await send(proxy.port, { headers: other })).text, 'stable', JSON.stringify(other));
      const many = await sendMany(proxy.port, 200, (i) => ({ agent: proxy.agent, headers: i % 2 === 0 ? { 'x-canary': 'always' } : { 'x-canary': 'never' } }));
      assert.deepEqual(countBodies(many), { canary: 100, stable: 100 });
    } finally {
      await proxy.close();
      await canary.close();
      await stable.close();
    }
  });

  test('a route whose group has no endpoint is skipped and the next rule or the weights decide', async () => {
    const canary = await namedUpstream('canary');
    const stable = await namedUpstream('stable');
    const plan: TrafficPlan = {
      ...makePlan(1, [group(3, 0, []), group(2, 0, [canary.endpoint('canary')]), group(1, 1, [stable.endpoint('stable')])]),
      routes: [
        { revision: 3, match: { header: { name: 'x-canary', value: '1' } } },
        { revision: 2, match: { header: { name: 'x-canary', value: '1' } } },
        { revision: 3, match: { cookie: { name: 'beta', value: 'on' } } },
        { revision: 4, match: { cookie: { name: 'beta', value: 'on' } } },
      ],
    };
    const proxy = await startProxy(plan);
    try {
      assert.equal((await send(proxy.port, { headers: { 'x-canary': '1' } })).text, 'canary');
      assert.equal((await send(proxy.port, { headers: { cookie: 'beta=on' } })).text, 'stable');
    } finally {
      await proxy.close();
      await canary.close();
      await stable.close();
    }
  });

  test('a routed request is retried only inside its group', async () => {
    const stable = await namedUpstream('stable');
    const canary = await namedUpstream('canary');
    const deadPort = await refusedPort();
    const plan: TrafficPlan = {
      ...makePlan(1, [
        group(2, 0, [{ id: 'dead', host: '127.0.0.1', port: deadPort }]),
        group(3, 0, [{ id: 'dead-3', host: '127.0.0.1', port: deadPort }, canary.endpoint('canary-3')]),
        group(1, 1, [stable.endpoint('stable')]),
      ]),
      routes: [
        { revision: 2, match: { header: { name: 'x-canary', value: '2' } } },
        { revision: 3, match: { header: { name: 'x-canary', value: '3' } } },
      ],
    };
    const proxy = await startProxy(plan);
    try {
      const failed = await send(proxy.port, { headers: { 'x-canary': '2' } });
      assert.equal(failed.status, 502, 'the only endpoint of revision 2 refused: no fallback to stable');
      for (let i = 0; i < 4; i++) assert.equal((await send(proxy.port, { headers: { 'x-canary': '3' } })).text, 'canary');
      assert.equal(stable.count(), 0);
    } finally {
      await proxy.close();
      await canary.close();
      await stable.close();
    }
  });
});
