import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { group, makePlan, refusedPort, send, startProxy, startUpstream, LOOPBACK } from '../../test/helpers/proxy-fixtures.js';
import { mergeMeasurements, RequestMeter } from './request-meter.js';
import { LATENCY_BUCKETS_SECONDS, METER_COUNTERS, type EndpointMeasurement } from '../model/measurements.js';

function count(m: EndpointMeasurement | undefined, name: (typeof METER_COUNTERS)[number]): number {
  return m?.counts[METER_COUNTERS.indexOf(name)] ?? 0;
}

describe('RequestMeter', () => {
  test('the proxy counts requests, status classes and latency per app, revision and instance', async () => {
    const ok = await startUpstream();
    const failing = await startUpstream((req, res) => {
      req.resume();
      res.statusCode = req.url === '/missing' ? 404 : 500;
      res.end('no');
    });
    const proxy = await startProxy(makePlan(1, [group(1, 1, [ok.endpoint('web-1-a')]), group(2, 1, [failing.endpoint('web-2-b')])]));
    try {
      for (let i = 0; i < 20; i++) await send(proxy.port, { agent: proxy.agent });
      await send(proxy.port, { agent: proxy.agent, path: '/missing' });
      const { endpoints } = proxy.proxy.measurements();
      const stable = endpoints.find((m) => m.instance === 'web-1-a');
      const canary = endpoints.find((m) => m.instance === 'web-2-b');
      assert.equal(stable?.app, 'web');
      assert.equal(stable?.revision, 1);
      assert.equal(canary?.revision, 2);
      assert.equal(count(stable, 'requests') + count(canary, 'requests'), 21);
      assert.equal(count(stable, 'status2xx'), count(stable, 'requests'));
      assert.equal(count(canary, 'appStatus5xx') + count(canary, 'status4xx'), count(canary, 'requests'));
      assert.equal(count(canary, 'proxyStatus5xx'), 0);
      const observed = [...(stable?.latencyBuckets ?? []), ...(canary?.latencyBuckets ?? [])].reduce((a, b) => a + b, 0);
      assert.equal(observed, 21);
      assert.equal(stable?.latencyBuckets.length, LATENCY_BUCKETS_SECONDS.length + 1);
    } finally {
      await proxy.close();
      await ok.close();
      await failing.close();
    }
  });

  test('a proxy-generated 502 is counted apart from the app’s own 5xx, with the upstream error', async () => {
    const port = await refusedPort();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [{ id: 'web-1-dead', host: LOOPBACK, port }])]), { maxTries: 1 });
    try {
      const res = await send(proxy.port, { agent: proxy.agent });
      assert.equal(res.status, 502);
      const dead = proxy.proxy.measurements().endpoints.find((m) => m.instance === 'web-1-dead');
      assert.equal(count(dead, 'proxyStatus5xx'), 1);
      assert.equal(count(dead, 'appStatus5xx'), 0);
      assert.equal(count(dead, 'upstreamErrors'), 1);
    } finally {
      await proxy.close();
    }
  });

  test('a request with no upstream is counted as unrouted for its app', async () => {
    const proxy = await startProxy(makePlan(1, []));
    try {
      assert.equal((await send(proxy.port, { agent: proxy.agent })).status, 503);
      assert.deepEqual(proxy.proxy.measurements().unrouted, { web: 1 });
    } finally {
      await proxy.close();
    }
  });

  test('issue 24: each request is counted under the generation of the plan that routed it', async () => {
    const ok = await startUpstream();
    const stable = ok.endpoint('web-1-a');
    const proxy = await startProxy({ ...makePlan(1, [group(1, 1, [stable])]), generation: 7 });
    try {
      for (let i = 0; i < 5; i++) await send(proxy.port, { agent: proxy.agent });
      await proxy.proxy.applyPlan({ ...makePlan(2, [group(1, 1, [stable])]), generation: 8 });
      for (let i = 0; i < 3; i++) await send(proxy.port, { agent: proxy.agent });
      const meters = proxy.proxy.measurements().endpoints.filter((m) => m.instance === 'web-1-a');
      const byGeneration = Object.fromEntries(meters.map((m) => [String(m.generation), count(m, 'requests')]));
      assert.deepEqual(byGeneration, { '7': 5, '8': 3 });
      const merged = mergeMeasurements([proxy.proxy.measurements(), proxy.proxy.measurements()]).endpoints.filter((m) => m.instance === 'web-1-a');
      assert.deepEqual(merged.map((m) => count(m, 'requests')).sort(), [10, 6].sort(), 'workers are merged per instance and generation');
    } finally {
      await proxy.close();
      await ok.close();
    }
  });

  test('merging sums the counts of one instance over workers', () => {
    const one = { app: 'web', revision: 1, instance: 'a', counts: METER_COUNTERS.map(() => 1), latencyBuckets: [1, 0], latencySumSeconds: 0.5 };
    const merged = mergeMeasurements([
      { endpoints: [one], unrouted: { web: 1 } },
      { endpoints: [one], unrouted: { web: 2 } },
    ]);
    assert.deepEqual(
      merged.endpoints[0]?.counts,
      METER_COUNTERS.map(() => 2),
    );
    assert.deepEqual(merged.endpoints[0]?.latencyBuckets, [2, 0]);
    assert.equal(merged.endpoints[0]?.latencySumSeconds, 1);
    assert.deepEqual(merged.unrouted, { web: 3 });
  });
});

describe('RequestMeter.tally', () => {
  test('changes with every count and every new meter, and stays put while nothing is recorded', () => {
    const meter = new RequestMeter();
    const tallies = [meter.tally()];
    const web = meter.meterOf('web', 1, 'web-1-a');
    tallies.push(meter.tally());
    assert.equal(meter.tally(), tallies[1], 'nothing recorded: the same tally');
    web.recordResponse(200, 0.001);
    tallies.push(meter.tally());
    web.recordUpstreamFailure(false);
    tallies.push(meter.tally());
    meter.recordUnrouted('web');
    tallies.push(meter.tally());
    assert.equal(new Set(tallies).size, tallies.length, `each step moved the tally: ${tallies.join(', ')}`);
  });
});
