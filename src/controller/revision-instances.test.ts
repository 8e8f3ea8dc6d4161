import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObservedRevision } from '../runtime/runtime.js';
import { replicaCounts, revisionInstances } from './revision-instances.js';

function revision(
  n: number,
  desired: number,
  ready: string[],
  unready: string[] = [],
  terminating: string[] = [],
  failed: { id: string; reason: string }[] = [],
): ObservedRevision {
  return {
    revision: n,
    desiredReplicas: desired,
    readyEndpoints: ready.map((id, i) => ({ id, host: `10.0.0.${i + 1}`, port: 8080 })),
    unreadyPods: unready,
    failedPods: failed,
    terminatingPods: terminating,
    readySinceMs: Object.fromEntries(ready.map((id) => [id, 1_000])),
  };
}

describe('revisionInstances', () => {
  it('ready pods are ready since their Ready condition, unready pods start, terminating pods are left out', () => {
    const instances = revisionInstances([revision(2, 2, ['a'], ['b'], ['c'])], (wall) => wall + 5, 99);
    assert.deepEqual(instances, [
      { id: 'a', revision: 2, state: 'ready', readyAtMs: 1_005, host: '10.0.0.1', port: 8080, failure: null },
      { id: 'b', revision: 2, state: 'starting', readyAtMs: null, host: null, port: 0, failure: null },
    ]);
  });

  it('a failed pod carries its reason and counts as an existing replica, so no other is asked for in its place', () => {
    const instances = revisionInstances(
      [revision(3, 2, ['a'], [], [], [{ id: 'b', reason: 'pod b: container web CrashLoopBackOff after 2 restarts' }])],
      (wall) => wall,
      0,
    );
    assert.deepEqual(
      instances.map((i) => `${i.id}:${i.state}:${i.failure}`),
      ['a:ready:null', 'b:starting:pod b: container web CrashLoopBackOff after 2 restarts'],
    );
  });

  it('replicas asked for but not created yet count as starting, so the planner does not ask for them again', () => {
    const instances = revisionInstances([revision(3, 3, ['a'])], (wall) => wall, 0);
    assert.deepEqual(
      instances.map((i) => `${i.id}:${i.state}`),
      ['a:ready', 'r3~pending-1:starting', 'r3~pending-2:starting'],
    );
  });
});

describe('replicaCounts', () => {
  it('keeps what is not stopped, adds what is started, and leaves other revisions as they are', () => {
    const instances = revisionInstances([revision(1, 2, ['a', 'b']), revision(2, 1, ['c']), revision(3, 1, [], ['d'])], (wall) => wall, 0);
    assert.deepEqual(
      [...replicaCounts(instances, [{ revision: 2, count: 2 }], ['a', 'd'])],
      [
        [1, 1],
        [2, 3],
        [3, 0],
      ],
    );
  });

  it('a start of a revision that has no instances yet creates its count', () => {
    assert.deepEqual([...replicaCounts([], [{ revision: 4, count: 3 }], [])], [[4, 3]]);
  });
});
