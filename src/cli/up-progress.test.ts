import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AppStatus, InstanceStatus } from '../protocol/status.js';
import { waitingLines } from './up-progress.js';

function app(name: string, instances: Partial<InstanceStatus>[]): AppStatus {
  return {
    name,
    revision: null,
    rollout: null,
    traffic: [],
    instances: instances.map((i, n) => ({ id: `${name}-${n}`, revision: 1, pid: 100 + n, port: 4000 + n, state: 'starting', ...i })),
  };
}

describe('waitingLines', () => {
  it('names the instances still starting and the health check last answer of each', () => {
    const lines = waitingLines([
      app('web', [{ lastCheck: 'HTTP 503' }, { lastCheck: 'ECONNREFUSED' }, { state: 'ready' }]),
      app('api', [{ state: 'ready' }]),
      app('worker', [{ revision: 2 }]),
    ]);
    assert.deepEqual(lines, [
      'web: waiting for 2 instances of revision 1 to pass their health check (last check: HTTP 503; ECONNREFUSED)',
      'worker: waiting for 1 instance of revision 2 to pass their health check',
    ]);
  });

  it('says nothing when no instance is starting', () => {
    assert.deepEqual(waitingLines([app('web', [{ state: 'ready' }, { state: 'failed' }])]), []);
  });
});
