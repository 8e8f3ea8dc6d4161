import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { countBodies, group, makePlan, namedUpstream, refusedPort, send, sendMany, startProxy, startUpstream, LOOPBACK } from './proxy-fixtures.js';
import type { TrafficPlan } from '../model/traffic-plan.js';
import { METER_COUNTERS } from './request-meter.js';
import type { ProxyServer } from './proxy-server.js';

const OUTLIERS = { consecutiveFailures: 3, ejectForMs: 60_000 };

function ejectionsOf(proxy: ProxyServer, instance: string): number {
  const meter = proxy.measurements().endpoints.find((m) => m.instance === instance);
  return meter?.counts[METER_COUNTERS.indexOf('ejections')] ?? 0;
}

/** An upstream answering 500 `bad` to everything. */
function failingUpstream() {
  return startUpstream((req, res) => {
    req.resume();
    res.statusCode = 500;
    res.end('bad');
  });
}

describe('passive outlier ejection', () => {
  test('an instance answering 500 three times in a row leaves the pool; the others take every request after', async () => {
    const [good1, good2, bad] = await Promise.all([namedUpstream('good'), namedUpstream('good'), failingUpstream()]);
    const plan: TrafficPlan = { ...makePlan(1, [group(1, 1, [good1.endpoint('a'), good2.endpoint('b'), bad.endpoint('bad')])]), outlierDetection: OUTLIERS };
    const proxy = await startProxy(plan);
    try {
      // One at a time, so round robin reaches the bad instance every third request.
      const first = await sendMany(proxy.port, 30, () => ({}), 1);
      assert.equal(countBodies(first)['bad'], 3, 'three 500s before the ejection');
      assert.equal(ejectionsOf(proxy.proxy, 'bad'), 1);
      const after = await sendMany(proxy.port, 60, () => ({}), 8);
      assert.deepEqual(countBodies(after), { good: 60 });
      assert.equal(bad.count(), 3);
    } finally {
      await proxy.close();
      await Promise.all([good1.close(), good2.close(), bad.close()]);
    }
  });

  test('an instance refusing connections is ejected and its requests retried elsewhere: no client sees an error', async () => {
    const good = await namedUpstream('good');
    const port = await refusedPort();
    const plan: TrafficPlan = { ...makePlan(1, [group(1, 1, [good.endpoint('good'), { id: 'dead', host: LOOPBACK, port }])]), outlierDetection: OUTLIERS };
    const proxy = await startProxy(plan);
    try {
      const responses = await sendMany(proxy.port, 40, () => ({}), 1);
      assert.deepEqual(countBodies(responses), { good: 40 });
      assert.equal(ejectionsOf(proxy.proxy, 'dead'), 1);
      const meter = proxy.proxy.measurements().endpoints.find((m) => m.instance === 'dead');
      assert.equal(meter?.counts[METER_COUNTERS.indexOf('upstreamErrors')], 3, 'tried three times, then left alone');
    } finally {
      await proxy.close();
      await good.close();
    }
  });

  test('the last instance of a revision, and more than half of one, stay in the pool however often they fail', async () => {
    const [bad1, bad2, bad3] = await Promise.all([failingUpstream(), failingUpstream(), failingUpstream()]);
    const single: TrafficPlan = { ...makePlan(1, [group(1, 1, [bad1.endpoint('only')])], { host: LOOPBACK, port: 0 }, 'single'), outlierDetection: OUTLIERS };
    const triple: TrafficPlan = {
      ...makePlan(1, [group(1, 1, [bad1.endpoint('x'), bad2.endpoint('y'), bad3.endpoint('z')])], { host: LOOPBACK, port: 0 }, 'triple'),
      outlierDetection: OUTLIERS,
    };
    const proxy = await startProxy(single);
    try {
      await proxy.proxy.applyPlan(triple);
      const singlePort = proxy.port;
      const triplePort = proxy.proxy.address('triple')!.port;
      const singles = await sendMany(singlePort, 20, () => ({}), 1);
      assert.ok(
        singles.every((r) => r.status === 500),
        'the app answers, never the proxy',
      );
      assert.equal(ejectionsOf(proxy.proxy, 'only'), 0);
      await sendMany(triplePort, 60, () => ({}), 1);
      const ejected = ['x', 'y', 'z'].filter((id) => ejectionsOf(proxy.proxy, id) > 0);
      assert.equal(ejected.length, 1, 'one of three: at most half');
    } finally {
      await proxy.close();
      await Promise.all([bad1.close(), bad2.close(), bad3.close()]);
    }
  });

  test('an ejected instance comes back after ejectFor', async () => {
    const ejectForMs = 300;
    const [good, flaky] = await Promise.all([namedUpstream('good'), namedUpstream('flaky')]);
    let isFailing = true;
    flaky.server.removeAllListeners('request');
    flaky.server.on('request', (req, res) => {
      req.resume();
      res.statusCode = isFailing ? 500 : 200;
      res.end('flaky');
    });
    const plan: TrafficPlan = {
      ...makePlan(1, [group(1, 1, [good.endpoint('good'), flaky.endpoint('flaky')])]),
      outlierDetection: { consecutiveFailures: 3, ejectForMs },
    };
    const proxy = await startProxy(plan);
    try {
      await sendMany(proxy.port, 6, () => ({}), 1);
      assert.equal(ejectionsOf(proxy.proxy, 'flaky'), 1);
      isFailing = false;
      const startedAt = performance.now();
      let isBack = false;
      while (!isBack) {
        const response = await send(proxy.port);
        if (response.text === 'flaky') isBack = true;
        else await delay(20);
      }
      assert.ok(performance.now() - startedAt >= ejectForMs - 50, 'not before ejectFor');
      const back = countBodies(await sendMany(proxy.port, 10, () => ({}), 1));
      assert.equal(back['flaky'], 5, 'round robin again');
    } finally {
      await proxy.close();
      await Promise.all([good.close(), flaky.close()]);
    }
  });

  test('a plan without outlierDetection never ejects', async () => {
    const [good, bad] = await Promise.all([namedUpstream('good'), failingUpstream()]);
    const proxy = await startProxy(makePlan(1, [group(1, 1, [good.endpoint('good'), bad.endpoint('bad')])]));
    try {
      const responses = await sendMany(proxy.port, 40, () => ({}), 1);
      assert.equal(countBodies(responses)['bad'], 20);
      assert.equal(ejectionsOf(proxy.proxy, 'bad'), 0);
    } finally {
      await proxy.close();
      await Promise.all([good.close(), bad.close()]);
    }
  });
});
