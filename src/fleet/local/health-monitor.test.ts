import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppSpec, ContainerRuntimeSpec } from '../../model/app-spec.js';
import { notListeningHint, STARTING_CHECK_MS, STARTING_FAST_CHECKS_MS, startingCheckDelayMs } from './health-monitor.js';

describe('startingCheckDelayMs', () => {
  it('checks a starting instance every 50 ms, so readiness is seen within 100 ms', () => {
    assert.equal(startingCheckDelayMs(0, 1_000), STARTING_CHECK_MS);
    assert.equal(startingCheckDelayMs(STARTING_FAST_CHECKS_MS, 1_000), STARTING_CHECK_MS);
  });

  it('never waits longer than the health interval, which may be shorter', () => {
    assert.equal(startingCheckDelayMs(0, 20), 20);
    assert.equal(startingCheckDelayMs(60_000, 1_000), 1_000);
  });

  it('backs off towards the interval for an instance that keeps starting past the fast window', () => {
    const delays = [11_000, 12_000, 13_000, 20_000].map((since) => startingCheckDelayMs(since, 5_000));
    assert.deepEqual(
      delays,
      [...delays].sort((a, b) => a - b),
      'the gap only grows',
    );
    assert.ok(delays[0]! > STARTING_CHECK_MS && delays[3]! <= 5_000, String(delays));
  });
});

describe('notListeningHint', () => {
  // Only the runtime is read.
  const withRuntime = (runtime?: Partial<ContainerRuntimeSpec>): AppSpec =>
    ({ runtime: runtime && { kind: 'container', engine: 'docker', image: 'web', resolved: null, volumes: [], args: [], ...runtime } }) as AppSpec;

  it('asks a process (or a host-network container) refused on its port whether it listens on $PORT', () => {
    assert.equal(notListeningHint(withRuntime(), 'connect ECONNREFUSED 127.0.0.1:41000'), '; does the app listen on $PORT?');
    assert.equal(notListeningHint(withRuntime({ network: 'host', port: null }), 'connect ECONNREFUSED 127.0.0.1:41000'), '; does the app listen on $PORT?');
    assert.equal(notListeningHint(withRuntime(), 'HTTP 500'), '');
  });

  it("asks a bridged container, refused (podman) or reset (docker's proxy), whether it listens on 0.0.0.0 inside", () => {
    const bridged = withRuntime({ network: 'bridge', port: 3000 });
    for (const detail of ['connect ECONNREFUSED 127.0.0.1:41000', 'ECONNRESET 127.0.0.1:41000', 'socket hang up'])
      assert.match(notListeningHint(bridged, detail), /0\.0\.0\.0:3000 inside its container/);
    assert.equal(notListeningHint(bridged, 'HTTP 503'), '');
  });
});
