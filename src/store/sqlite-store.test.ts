import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite-store.js';
import { MIGRATIONS } from './migrations.js';
import type { AppSpec, StrategySpec } from '../model/spec.js';

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

  it('keeps a rollout\'s hooks and skipped points, and one hook run per rollout, point key and index', () => {
    withStore((store) => {
      const hooks = { preDeploy: [{ action: { kind: 'command' as const, command: ['true'], shell: false, cwd: '/' }, timeoutMs: 1000, isIdempotent: false }], preTraffic: [], postTraffic: [], onSuccess: [], onFailure: [] };
      const rollout = store.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: 1, hooks, skippedHooks: ['preTraffic'] });
      assert.deepEqual(store.getRollout(rollout.id)?.hooks, hooks);
      assert.deepEqual(store.getRollout(rollout.id)?.skippedHooks, ['preTraffic']);
      const run = { rolloutId: rollout.id, app: 'web', point: 'postTraffic' as const, pointKey: 'postTraffic@1', index: 0, description: 'true', state: 'running' as const, attempts: 1, pid: 42, identity: 'x', reason: null, startedAt: 1, endedAt: null };
      store.upsertHookRun(run);
      store.upsertHookRun({ ...run, state: 'succeeded', endedAt: 2 });
      store.upsertHookRun({ ...run, pointKey: 'postTraffic@2' });
      assert.deepEqual(store.listHookRuns({ rolloutId: rollout.id }).map((r) => [r.pointKey, r.state]), [['postTraffic@1', 'succeeded'], ['postTraffic@2', 'running']]);
      assert.deepEqual(store.listHookRuns({ app: 'web', states: ['running'] }).map((r) => r.pointKey), ['postTraffic@2']);
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
      assert.throws(() => store.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: 2 }), { code: 'ROLLOUT_ALREADY_ACTIVE' });
      store.createRollout({ app: 'api', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: 1 });
      store.updateRollout(first.id, { phase: 'promoted' });
      const second = store.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: 1, toRevision: 2 });
      assert.equal(second.phase, 'progressing');
    });
  });

  it('keeps a rollout\'s strategy settings, step, pause, gate and warm revision, and drops the gate when it ends', () => {
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
      store.setTraffic('web', [{ revision: 2, weight: 10, instances: 1 }, { revision: 1, weight: 90, instances: 3 }]);
      assert.deepEqual(store.traffic('web').map((t) => t.weight), [10, 90]);
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
        id: `web-1-${n}`, app: 'web', revision: 1, pid: null, identity: null, rolloutId: null, port: 1000 + n, state, reason: null,
        logPath: `/logs/web-1-${n}.log`, startedAt: n, readyAt: null, stoppedAt: state === 'stopped' ? n : null,
      });
      for (let n = 0; n < 5; n++) store.upsertInstance(instance(n, 'stopped'));
      store.upsertInstance(instance(9, 'ready'));
      const forgotten = store.prune({ keepEvents: 3, keepEndedInstances: 2 });
      assert.deepEqual(store.listEvents({}).map((e) => e.message), ['event 7', 'event 8', 'event 9']);
      assert.deepEqual(forgotten.sort(), ['/logs/web-1-0.log', '/logs/web-1-1.log', '/logs/web-1-2.log']);
      assert.deepEqual(store.listInstances('web', { includeStopped: true }).map((i) => i.id).sort(), ['web-1-3', 'web-1-4', 'web-1-9']);
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
    assert.deepEqual(second.listEvents({ app: 'web' }).map((e) => e.message), ['hello']);
    second.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
