import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TrafficPlan } from '../model/traffic-plan.js';
import { countBodies, group, makePlan, namedUpstream, send, sendMany, startProxy, startUpstream } from './proxy-fixtures.js';
import type { TestUpstream } from './proxy-fixtures.js';
import { newStickyValue } from './sticky-cookie.js';

const REQUESTS = 10_000;
const COOKIE = 'cutover-web';

/** A canary/stable plan, the canary listed first as the controller does. */
function canaryPlan(version: number, canary: TestUpstream, stable: TestUpstream, canaryWeight: number, isSticky: boolean): TrafficPlan {
  const plan = makePlan(version, [group(2, canaryWeight, [canary.endpoint('canary')]), group(1, 100 - canaryWeight, [stable.endpoint('stable')])]);
  return isSticky ? { ...plan, sticky: { cookie: COOKIE, ttlMs: 3_600_000 } } : plan;
}

function sharePercent(counts: Record<string, number>, name: string, total: number): number {
  return ((counts[name] ?? 0) / total) * 100;
}

describe('ProxyServer weights and sticky assignment', () => {
  test('weights 10/90 split 10,000 requests exactly 1,000 to 9,000 by smooth weighted round robin', async () => {
    const canary = await namedUpstream('canary');
    const stable = await namedUpstream('stable');
    const proxy = await startProxy(canaryPlan(1, canary, stable, 10, false));
    try {
      const responses = await sendMany(proxy.port, REQUESTS, () => ({ agent: proxy.agent }));
      assert.ok(responses.every((res) => res.status === 200));
      assert.deepEqual(countBodies(responses), { canary: 1_000, stable: 9_000 });
      assert.ok(
        responses.every((res) => res.headers['set-cookie'] === undefined),
        'no cookie without sticky assignment',
      );
    } finally {
      await proxy.close();
      await canary.close();
      await stable.close();
    }
  });

  test('with sticky assignment, 10,000 clients with random cookies split 10/90 within 2 points', async () => {
    const canary = await namedUpstream('canary');
    const stable = await namedUpstream('stable');
    const proxy = await startProxy(canaryPlan(1, canary, stable, 10, true));
    try {
      const responses = await sendMany(proxy.port, REQUESTS, () => ({
        agent: proxy.agent,
        headers: { cookie: `theme=dark; ${COOKIE}=${newStickyValue()}` },
      }));
      assert.ok(responses.every((res) => res.status === 200));
      const canaryShare = sharePercent(countBodies(responses), 'canary', REQUESTS);
      assert.ok(Math.abs(canaryShare - 10) <= 2, `canary share ${canaryShare.toFixed(2)}% is within 10 ± 2`);
      assert.ok(
        responses.every((res) => res.headers['set-cookie'] === undefined),
        'clients that have a valid cookie are not given another',
      );
    } finally {
      await proxy.close();
      await canary.close();
      await stable.close();
    }
  });

  test('with sticky assignment, cookie-less clients split 10/90 within 2 points and each is given a cookie once', async () => {
    const canary = await namedUpstream('canary');
    const stable = await namedUpstream('stable');
    const proxy = await startProxy(canaryPlan(1, canary, stable, 10, true));
    try {
      const first = await sendMany(proxy.port, REQUESTS, () => ({ agent: proxy.agent }));
      const canaryShare = sharePercent(countBodies(first), 'canary', REQUESTS);
      assert.ok(Math.abs(canaryShare - 10) <= 2, `canary share ${canaryShare.toFixed(2)}% is within 10 ± 2`);
      const cookies = first.map((res) => {
        const setCookie = res.headers['set-cookie'];
        assert.equal(setCookie?.length, 1);
        assert.match(setCookie[0]!, new RegExp(`^${COOKIE}=[0-9a-f]{16}; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax$`));
        return setCookie[0]!.split(';')[0]!;
      });
      assert.equal(new Set(cookies).size, REQUESTS, 'every client got its own value');

      // The same clients come back with their cookie: same group, no new cookie.
      const again = await sendMany(proxy.port, 2_000, (i) => ({ agent: proxy.agent, headers: { cookie: cookies[i]! } }));
      again.forEach((res, i) => {
        assert.equal(res.text, first[i]!.text);
        assert.equal(res.headers['set-cookie'], undefined);
      });
    } finally {
      await proxy.close();
      await canary.close();
      await stable.close();
    }
  });

  test('a fixed cookie always lands on the same group', async () => {
    const canary = await namedUpstream('canary');
    const stable = await namedUpstream('stable');
    const proxy = await startProxy(canaryPlan(1, canary, stable, 50, true));
    try {
      for (const value of ['0123456789abcdef', 'fedcba9876543210', 'user-42']) {
        const responses = await sendMany(proxy.port, 200, () => ({ agent: proxy.agent, headers: { cookie: `${COOKIE}=${value}` } }));
        assert.equal(Object.keys(countBodies(responses)).length, 1, `cookie ${value} always reaches one group`);
      }
    } finally {
      await proxy.close();
      await canary.close();
      await stable.close();
    }
  });

  test('a client on the canary at weight 10 stays on it at weights 20 and 50', async () => {
    const canary = await namedUpstream('canary');
    const stable = await namedUpstream('stable');
    const proxy = await startProxy(canaryPlan(1, canary, stable, 10, true));
    try {
      const values = Array.from({ length: 1_000 }, () => newStickyValue());
      const withCookie = (i: number) => ({ agent: proxy.agent, headers: { cookie: `${COOKIE}=${values[i]!}` } });
      const at10 = await sendMany(proxy.port, values.length, withCookie);
      const onCanary = values.filter((_, i) => at10[i]!.text === 'canary');
      assert.ok(onCanary.length > 40, `some clients land on the canary at weight 10 (got ${onCanary.length})`);

      for (const [version, weight] of [
        [2, 20],
        [3, 50],
      ] as const) {
        await proxy.proxy.applyPlan(canaryPlan(version, canary, stable, weight, true));
        const responses = await sendMany(proxy.port, values.length, withCookie);
        values.forEach((value, i) => {
          if (onCanary.includes(value)) assert.equal(responses[i]!.text, 'canary', `client ${value} stays on the canary at weight ${weight}`);
        });
      }
    } finally {
      await proxy.close();
      await canary.close();
      await stable.close();
    }
  });

  test("the sticky cookie is added next to the app's own Set-Cookie headers", async () => {
    const app = await startUpstream((req, res) => {
      req.resume();
      res.setHeader('set-cookie', ['session=abc; HttpOnly', 'theme=dark']);
      res.end('ok');
    });
    const proxy = await startProxy({ ...makePlan(1, [group(1, 1, [app.endpoint('a')])]), sticky: { cookie: COOKIE, ttlMs: 60_000 } });
    try {
      const res = await send(proxy.port);
      const setCookie = res.headers['set-cookie'] ?? [];
      assert.equal(setCookie.length, 3);
      assert.deepEqual(setCookie.slice(0, 2), ['session=abc; HttpOnly', 'theme=dark']);
      assert.match(setCookie[2]!, new RegExp(`^${COOKIE}=[0-9a-f]{16}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax$`));
    } finally {
      await proxy.close();
      await app.close();
    }
  });

  test('a cookie with an invalid value is replaced by a fresh one', async () => {
    const app = await namedUpstream('app');
    const proxy = await startProxy({ ...makePlan(1, [group(1, 1, [app.endpoint('a')])]), sticky: { cookie: COOKIE, ttlMs: 60_000 } });
    try {
      const res = await send(proxy.port, { headers: { cookie: `${COOKIE}="<script>"; ${COOKIE}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers['set-cookie']?.[0] ?? '', new RegExp(`^${COOKIE}=[0-9a-f]{16};`));
    } finally {
      await proxy.close();
      await app.close();
    }
  });

  test('once applyPlan resolves with the canary at weight 0 or removed, no new request reaches it', async () => {
    const canary = await namedUpstream('canary');
    const stable = await namedUpstream('stable');
    const proxy = await startProxy(canaryPlan(1, canary, stable, 50, true));
    try {
      const values = Array.from({ length: 500 }, () => newStickyValue());
      const withCookie = (i: number) => ({ agent: proxy.agent, headers: { cookie: `${COOKIE}=${values[i]!}` } });
      await sendMany(proxy.port, values.length, withCookie);
      assert.ok(canary.count() > 0);

      await proxy.proxy.applyPlan(canaryPlan(2, canary, stable, 0, true));
      const before = canary.count();
      const sticky = await sendMany(proxy.port, values.length, withCookie);
      const plain = await sendMany(proxy.port, 500, () => ({ agent: proxy.agent }));
      assert.deepEqual(countBodies([...sticky, ...plain]), { stable: 1_000 });
      assert.equal(canary.count(), before);

      await proxy.proxy.applyPlan(makePlan(3, [group(1, 100, [stable.endpoint('stable')])]));
      const after = await sendMany(proxy.port, 500, withCookie);
      assert.deepEqual(countBodies(after), { stable: 500 });
      assert.equal(canary.count(), before);
    } finally {
      await proxy.close();
      await canary.close();
      await stable.close();
    }
  });
});
