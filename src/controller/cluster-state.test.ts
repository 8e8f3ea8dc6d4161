import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { AppSpec, StrategySpec } from '../model/spec.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { ClusterAppState } from '../store/store.js';
import { clusterStateOf } from './cluster-state.js';

const strategySpec = { rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0, progressDeadlineMs: 1000 } } as StrategySpec;
const specOf = (image: string) => ({ name: 'web', runtime: { kind: 'kubernetes', image } }) as unknown as AppSpec;

/** Two machines' stores: the CI runner that drove the app, and the laptop that takes it over. */
describe('the state of a cluster app, from one store to the cluster to another', () => {
  let dir: string;
  let runner: SqliteStore;
  let laptop: SqliteStore;
  let serial = 0;
  const newKey = () => `runner#${++serial}`;

  beforeEach(() => {
    serial = 0;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-cluster-state-'));
    runner = new SqliteStore(path.join(dir, 'runner.db'));
    laptop = new SqliteStore(path.join(dir, 'laptop.db'));
  });
  afterEach(() => {
    runner.close();
    laptop.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Revision 1 stable, and a canary to revision 2 paused at its gate with a hook run and an analysis run. */
  const driveOnRunner = () => {
    runner.addRevision('web', specOf('web:1'), 'h1');
    const first = runner.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: 1 });
    runner.updateRollout(first.id, { phase: 'promoted', step: 'done' });
    runner.setStableRevision('web', 1);
    runner.addRevision('web', specOf('web:2'), 'h2');
    const canary = runner.createRollout({ app: 'web', strategy: 'canary', strategySpec, trigger: 'deploy', fromRevision: 1, toRevision: 2 });
    runner.updateRollout(canary.id, { phase: 'paused', stepIndex: 1, gate: 'pause {} at step 2', step: 'step 2/2' });
    runner.upsertHookRun({
      rolloutId: canary.id,
      app: 'web',
      point: 'postTraffic',
      pointKey: 'postTraffic@0',
      index: 0,
      description: 'smoke',
      state: 'running',
      attempts: 1,
      pid: 4242,
      identity: 'x',
      reason: null,
      startedAt: 1,
      endedAt: null,
    });
    runner.upsertAnalysisRun({
      rolloutId: canary.id,
      app: 'web',
      pointKey: 'step@0',
      template: 'errors',
      state: 'successful',
      reason: null,
      startedAt: 1,
      endedAt: 2,
    });
    runner.upsertAnalysisRun({
      rolloutId: canary.id,
      app: 'web',
      pointKey: 'step@1',
      template: 'errors',
      state: 'running',
      reason: null,
      startedAt: 3,
      endedAt: null,
    });
    return canary;
  };

  it('carries revisions, the stable revision and rollouts with their progress, each rollout under one key', () => {
    const canary = driveOnRunner();
    const state = clusterStateOf(runner, 'web', newKey);
    assert.deepEqual(
      state.revisions.map((r) => r.number),
      [1, 2],
    );
    assert.deepEqual(
      state.rollouts.map((r) => r.key),
      ['runner#1', 'runner#2'],
    );
    assert.deepEqual(
      clusterStateOf(runner, 'web', newKey).rollouts.map((r) => r.key),
      ['runner#1', 'runner#2'],
      'a key, once given, stays',
    );

    const taken = laptop.importClusterState(state);
    assert.deepEqual(taken, { revisions: 2, rollouts: 2, superseded: [] });
    assert.equal(laptop.stableRevision('web'), 1);
    assert.equal(laptop.getRevision('web', 2)?.specHash, 'h2');
    const active = laptop.activeRollout('web')!;
    assert.deepEqual(
      [active.strategy, active.phase, active.stepIndex, active.gate, active.fromRevision, active.toRevision],
      ['canary', 'paused', 1, 'pause {} at step 2', 1, 2],
    );
    assert.equal(active.startedAt, canary.startedAt);

    const [hook] = laptop.listHookRuns({ rolloutId: active.id });
    assert.equal(hook?.state, 'interrupted', 'a hook that ran on the runner is not a process of the laptop: it holds the rollout, as after a crash');
    assert.equal(hook?.pid, null);
    assert.deepEqual(
      laptop.listAnalysisRuns({ rolloutId: active.id }).map((r) => `${r.pointKey}:${r.state}`),
      ['step@0:successful'],
      'a running analysis is measured again by whoever drives on',
    );
  });

  it('taking the same state twice changes nothing; a later state moves the known rollout on', () => {
    const canary = driveOnRunner();
    laptop.importClusterState(clusterStateOf(runner, 'web', newKey));
    assert.deepEqual(laptop.importClusterState(clusterStateOf(runner, 'web', newKey)), { revisions: 0, rollouts: 0, superseded: [] });

    runner.updateRollout(canary.id, { phase: 'promoted', step: 'done', stepIndex: 2 });
    runner.setStableRevision('web', 2);
    const taken = laptop.importClusterState(clusterStateOf(runner, 'web', newKey));
    assert.equal(taken.rollouts, 1);
    assert.equal(laptop.activeRollout('web'), null);
    assert.equal(laptop.stableRevision('web'), 2);
    assert.equal(laptop.listRollouts('web', 10).length, 2, 'no rollout is taken twice');
  });

  it("the laptop's own rollout goes on when the cluster did not move, and ends failed when another cutover moved the app meanwhile", () => {
    driveOnRunner();
    const state = clusterStateOf(runner, 'web', newKey);
    const ended: ClusterAppState = { ...state, rollouts: state.rollouts.map((r) => ({ ...r, phase: 'promoted', gate: null })) };
    laptop.importClusterState(ended);
    laptop.setStableRevision('web', 1); // as if revision 2 had not been promoted on the cluster yet
    laptop.addRevision('web', specOf('web:3'), 'h3');
    const mine = laptop.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: 1, toRevision: 3 });
    assert.deepEqual(laptop.importClusterState({ ...ended, stableRevision: 1 }).superseded, [], 'the cluster still has revision 1 stable: the rollout goes on');
    assert.equal(laptop.getRollout(mine.id)!.phase, 'progressing');

    const moved = laptop.importClusterState({ ...ended, stableRevision: 2 });
    assert.equal(moved.superseded[0]?.rolloutId, mine.id);
    assert.match(laptop.getRollout(mine.id)!.reason ?? '', /stable revision of "web" is 2 now, not 1: another cutover drove the app meanwhile; deploy again/);
  });

  it("a local rollout is overruled by another rollout in progress on the cluster, and a diverged revision number takes the cluster's spec", () => {
    driveOnRunner();
    laptop.addRevision('web', specOf('web:mine'), 'mine');
    const mine = laptop.createRollout({ app: 'web', strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: 1 });
    const taken = laptop.importClusterState(clusterStateOf(runner, 'web', newKey));
    assert.match(taken.superseded[0]?.reason ?? '', /another cutover drives rollout runner#2 \(revision 1 → 2\)/);
    assert.equal(laptop.getRollout(mine.id)!.phase, 'failed');
    assert.equal(laptop.getRevision('web', 1)?.specHash, 'h1');
    assert.equal(laptop.activeRollout('web')?.toRevision, 2);
  });

  it('keeps the state within its size by dropping the oldest rollouts first', () => {
    driveOnRunner();
    const full = JSON.stringify(clusterStateOf(runner, 'web', newKey)).length;
    const trimmed = clusterStateOf(runner, 'web', newKey, full - 1);
    assert.deepEqual(
      trimmed.rollouts.map((r) => r.toRevision),
      [2],
    );
    assert.deepEqual(
      trimmed.revisions.map((r) => r.number),
      [1, 2],
      'the stable revision stays',
    );
  });
});
