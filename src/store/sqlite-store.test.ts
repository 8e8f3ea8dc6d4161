import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite-store.js';
import { MIGRATIONS } from './migrations.js';
import type { AppSpec, StrategySpec } from '../model/spec.js';
import { MeasurementHistory } from '../analysis/measurement-history.js';
import { LATENCY_BUCKETS_SECONDS, METER_COUNTERS, type EndpointMeasurement } from '../proxy/request-meter.js';

const spec = { name: 'web' } as AppSpec;
const strategySpec = { rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0, progressDeadlineMs: 1000 } } as StrategySpec;

function withStore(run: (store: SqliteStore, file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-store-'));
  const file = path.join(dir, 'state.db');
  const store = new SqliteStore(file);
  try {
    run(store, file);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('SqliteStore', () => {
  it('opens in WAL mode at the latest schema version', () => {
    withStore((_store, file) => {
      const db = new Database(file, { readonly: true });
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
      db.close();
    });
  });

  it("keeps a rollout's hooks and skipped points, and one hook run per rollout, point key and index", () => {
    withStore((store) => {
      const hooks = {
        preDeploy: [{ action: { kind: 'command' as const, command: ['true'], shell: false, cwd: '/' }, timeoutMs: 1000, isIdempotent: false }],
        preTraffic: [],
        postTraffic: [],
        onSuccess: [],
        onFailure: [],
      };
      const rollout = store.createRollout({
        app: 'web',
        strategy: 'rolling',
        strategySpec,
        trigger: 'deploy',
        fromRevision: null,
        toRevision: 1,
        hooks,
        skippedHooks: ['preTraffic'],
      });
      assert.deepEqual(store.getRollout(rollout.id)?.hooks, hooks);
      assert.deepEqual(store.getRollout(rollout.id)?.skippedHooks, ['preTraffic']);
      const run = {
        rolloutId: rollout.id,
        app: 'web',
        point: 'postTraffic' as const,
        pointKey: 'postTraffic@1',
        index: 0,
        description: 'true',
        state: 'running' as const,
        attempts: 1,
        pid: 42,
        identity: 'x',
        reason: null,
        startedAt: 1,
        endedAt: null,
      };
      store.upsertHookRun(run);
      store.upsertHookRun({ ...run, state: 'succeeded', endedAt: 2 });
      store.upsertHookRun({ ...run, pointKey: 'postTraffic@2' });
      assert.deepEqual(
        store.listHookRuns({ rolloutId: rollout.id }).map((r) => [r.pointKey, r.state]),
        [
          ['postTraffic@1', 'succeeded'],
          ['postTraffic@2', 'running'],
        ],
      );
      assert.deepEqual(
        store.listHookRuns({ app: 'web', states: ['running'] }).map((r) => r.pointKey),
        ['postTraffic@2'],
      );
      assert.deepEqual(store.listHookRuns({ app: 'api' }), []);
    });
  });

  it('numbers revisions per app from 1', () => {
    withStore((store) => {
      assert.equal(store.addRevision('web', spec, 'a').number, 1);
      assert.equal(store.addRevision('web', spec, 'b').number, 2);
      assert.equal(store.addRevision('api', spec, 'c').number, 1);
      assert.equal(store.latestRevision('web')?.specHash, 'b');
    });
  });

  it('refuses a second active rollout for the same app, and allows one once the first ended', () => {
    withStore((store) => {
      const first = store.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: 1 });
      assert.throws(() => store.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: 2 }), {
        code: 'ROLLOUT_ALREADY_ACTIVE',
      });
      store.createRollout({ app: 'api', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: 1 });
      store.updateRollout(first.id, { phase: 'promoted' });
      const second = store.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: 1, toRevision: 2 });
      assert.equal(second.phase, 'progressing');
    });
  });

  it("keeps a rollout's strategy settings, step, pause, gate and warm revision, and drops the gate when it ends", () => {
    withStore((store) => {
      const rollout = store.createRollout({ app: 'web', strategy: 'canary', strategySpec, trigger: 'deploy', fromRevision: 1, toRevision: 2 });
      assert.deepEqual(rollout.strategySpec, strategySpec);
      assert.equal(rollout.stepIndex, 0);
      assert.equal(rollout.stepStartedAt, rollout.startedAt);
      const paused = store.updateRollout(rollout.id, { phase: 'paused', stepIndex: 2, stepStartedAt: 5, pausedAt: 7, gate: 'run cutover promote web' });
      assert.deepEqual([paused.stepIndex, paused.stepStartedAt, paused.pausedAt, paused.gate], [2, 5, 7, 'run cutover promote web']);
      const ended = store.updateRollout(rollout.id, { phase: 'aborted', warmRevision: 2, warmUntil: 99 });
      assert.deepEqual([ended.gate, ended.warmRevision, ended.warmUntil, ended.stepIndex], [null, 2, 99, 2]);
    });
  });

  it('stores the traffic split of an app', () => {
    withStore((store) => {
      store.addRevision('web', spec, 'a');
      assert.deepEqual(store.traffic('web'), []);
      store.setTraffic('web', [
        { revision: 2, weight: 10, instances: 1 },
        { revision: 1, weight: 90, instances: 3 },
      ]);
      assert.deepEqual(
        store.traffic('web').map((t) => t.weight),
        [10, 90],
      );
    });
  });

  it('stamps endedAt when a rollout reaches a terminal phase', () => {
    withStore((store) => {
      const rollout = store.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: 1 });
      assert.equal(store.updateRollout(rollout.id, { step: 'x' }).endedAt, null);
      assert.notEqual(store.updateRollout(rollout.id, { phase: 'rolled-back', reason: 'r' }).endedAt, null);
    });
  });

  it('prunes the oldest events and ended instances beyond the limits, returning their log paths', () => {
    withStore((store) => {
      for (let n = 0; n < 10; n++) store.addEvent('web', null, 'note', `event ${n}`);
      const instance = (n: number, state: 'ready' | 'stopped') => ({
        id: `web-1-${n}`,
        app: 'web',
        revision: 1,
        pid: null,
        identity: null,
        rolloutId: null,
        port: 1000 + n,
        state,
        reason: null,
        logPath: `/logs/web-1-${n}.log`,
        startedAt: n,
        readyAt: null,
        stoppedAt: state === 'stopped' ? n : null,
      });
      for (let n = 0; n < 5; n++) store.upsertInstance(instance(n, 'stopped'));
      store.upsertInstance(instance(9, 'ready'));
      const forgotten = store.prune({ keepEvents: 3, keepEndedInstances: 2 });
      assert.deepEqual(
        store.listEvents({}).map((e) => e.message),
        ['event 7', 'event 8', 'event 9'],
      );
      assert.deepEqual(forgotten.sort(), ['/logs/web-1-0.log', '/logs/web-1-1.log', '/logs/web-1-2.log']);
      assert.deepEqual(
        store
          .listInstances('web', { includeStopped: true })
          .map((i) => i.id)
          .sort(),
        ['web-1-3', 'web-1-4', 'web-1-9'],
      );
    });
  });

  it('keeps state across reopening', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-store-'));
    const file = path.join(dir, 'state.db');
    const first = new SqliteStore(file);
    first.addRevision('web', spec, 'a');
    first.setStableRevision('web', 1);
    first.addEvent('web', null, 'note', 'hello');
    first.close();
    const second = new SqliteStore(file);
    assert.equal(second.stableRevision('web'), 1);
    assert.deepEqual(
      second.listEvents({ app: 'web' }).map((e) => e.message),
      ['hello'],
    );
    second.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps traffic seconds per revision, adds polls of the same second together, and reads a window of seconds', () => {
    withStore((store) => {
      const history = new MeasurementHistory();
      const poll = (atMs: number, requests: number, errors: number, unrouted: number): void =>
        store.addTraffic(atMs, history.record(atMs, [{ source: 'w1', endpoints: [endpoint(2, requests, errors)], unrouted: { web: unrouted } }]));
      poll(10_000, 0, 0, 0);
      poll(10_200, 40, 1, 1);
      poll(10_700, 100, 5, 1); // the same second: added to it
      poll(11_200, 150, 5, 3);
      const all = store.trafficBetween('web', 10_000, 12_000);
      assert.equal(all.revisions[0]?.counts[METER_COUNTERS.indexOf('requests')], 150);
      assert.equal(all.revisions[0]?.counts[METER_COUNTERS.indexOf('appStatus5xx')], 5);
      assert.equal(all.unrouted, 3);
      assert.equal(store.trafficBetween('web', 11_000, 12_000).revisions[0]?.counts[0], 50, 'only the second from 11s');
      assert.equal(store.trafficBetween('other', 0, 20_000).revisions.length, 0);
      assert.equal(store.measuringSince(), 10_000);
    });
  });

  it('keeps the raw counts read last, so a controller started later counts on from them', () => {
    withStore((store) => {
      const first = new MeasurementHistory();
      store.addTraffic(1_000, first.record(1_000, [{ source: 'w1', endpoints: [endpoint(2, 10, 0), endpoint(1, 5, 0, 'web-1-a')], unrouted: { web: 1 } }]));
      store.addTraffic(1_500, first.record(1_500, [{ source: 'w1', endpoints: [endpoint(2, 30, 0), endpoint(1, 5, 0, 'web-1-a')], unrouted: { web: 1 } }]));
      // A restart: the worker counted 12 more meanwhile.
      const second = new MeasurementHistory();
      second.restore(store.listMeasurementCursors());
      const delta = second.record(9_000, [{ source: 'w1', endpoints: [endpoint(2, 42, 0), endpoint(1, 5, 0, 'web-1-a')], unrouted: { web: 1 } }]);
      assert.deepEqual(
        delta.revisions.map((r) => [r.revision, r.counts[0]]),
        [[2, 12]],
      );
    });
  });

  it('forgets traffic seconds and the cursors of processes not heard of for longer than it keeps', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-store-'));
    let now = 1_000;
    const store = new SqliteStore(path.join(dir, 'state.db'), () => now);
    try {
      store.addTraffic(1_000, new MeasurementHistory().record(1_000, [{ source: 'w1', endpoints: [endpoint(2, 1, 0)], unrouted: {} }]));
      const live = new MeasurementHistory();
      live.record(1_000, []);
      store.addTraffic(1_000, live.record(1_000, [{ source: 'w2', endpoints: [endpoint(2, 1, 0)], unrouted: {} }]));
      now = 100_000;
      store.addTraffic(99_000, live.record(99_000, [{ source: 'w2', endpoints: [endpoint(2, 2, 0)], unrouted: {} }]));
      store.prune({ keepEvents: 10, keepEndedInstances: 10, keepTrafficMs: 50_000 });
      assert.deepEqual(
        store.listMeasurementCursors().map((c) => c.source),
        ['w2'],
      );
      assert.equal(store.trafficBetween('web', 0, 50_000).revisions.length, 0);
      assert.equal(store.trafficBetween('web', 50_000, 100_000).revisions[0]?.counts[0], 1);
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function endpoint(revision: number, requests: number, errors: number, instance = `web-${revision}-a`): EndpointMeasurement {
  const counts = METER_COUNTERS.map(() => 0);
  counts[METER_COUNTERS.indexOf('requests')] = requests;
  counts[METER_COUNTERS.indexOf('status2xx')] = requests - errors;
  counts[METER_COUNTERS.indexOf('appStatus5xx')] = errors;
  return { app: 'web', revision, instance, counts, latencyBuckets: [requests, ...LATENCY_BUCKETS_SECONDS.map(() => 0)], latencySumSeconds: requests * 0.001 };
}
