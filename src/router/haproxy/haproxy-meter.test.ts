import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { METER_COUNTERS } from '../../proxy/request-meter.js';
import { HaproxyMeter } from './haproxy-meter.js';
import type { ServerStatRow } from './runtime-api.js';

function row(total: number, responses5xx = 0, avgTotalTimeMs = 3): ServerStatRow {
  return {
    backend: 'be_web',
    server: 's1',
    queued: 0,
    current: 0,
    total,
    status: 'UP',
    weight: 1,
    responses1xx: 0,
    responses2xx: total - responses5xx,
    responses3xx: 0,
    responses4xx: 0,
    responses5xx,
    connectionErrors: 0,
    responseErrors: 0,
    retries: 0,
    redispatches: 0,
    avgResponseTimeMs: avgTotalTimeMs,
    avgTotalTimeMs,
    address: '127.0.0.1:1',
  };
}

const owners = new Map([
  ['web-2-a', { app: 'web', revision: 2 }],
  ['web-3-b', { app: 'web', revision: 3 }],
]);
const requestsOf = (meter: HaproxyMeter, id: string): number | undefined =>
  meter.snapshot().find((m) => m.instance === id)?.counts[METER_COUNTERS.indexOf('requests')];

describe('HaproxyMeter', () => {
  it('credits what a server counted since the last read to the endpoint it served, the first read being a baseline', () => {
    const meter = new HaproxyMeter();
    const slot = { backend: 'be_web', server: 's1', endpointId: 'web-2-a' };
    meter.update([row(500)], [slot], (id) => owners.get(id));
    assert.equal(requestsOf(meter, 'web-2-a'), undefined);
    meter.update([row(540, 4, 30)], [slot], (id) => owners.get(id));
    const [m] = meter.snapshot();
    assert.equal(m?.counts[METER_COUNTERS.indexOf('requests')], 40);
    assert.equal(m?.counts[METER_COUNTERS.indexOf('appStatus5xx')], 4);
    assert.equal(m?.latencyBuckets[3], 40, 'all 40 in the bucket of the 30ms average (25-50ms)');
  });

  it('a reused slot counts for its new endpoint only from the read after it changed hands, and a reload starts from 0', () => {
    const meter = new HaproxyMeter();
    meter.update([row(100)], [{ backend: 'be_web', server: 's1', endpointId: 'web-2-a' }], (id) => owners.get(id));
    meter.update([row(110)], [{ backend: 'be_web', server: 's1', endpointId: 'web-3-b' }], (id) => owners.get(id));
    meter.update([row(130)], [{ backend: 'be_web', server: 's1', endpointId: 'web-3-b' }], (id) => owners.get(id));
    assert.equal(requestsOf(meter, 'web-2-a'), 10);
    assert.equal(requestsOf(meter, 'web-3-b'), 20);
    meter.update([row(7)], [{ backend: 'be_web', server: 's1', endpointId: 'web-3-b' }], (id) => owners.get(id));
    assert.equal(requestsOf(meter, 'web-3-b'), 27);
  });
});
