import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store } from '../store/store.js';
import { ReconcileLoop } from './reconcile-loop.js';
import type { StorageGuard } from './storage-guard.js';

/** A loop whose passes are counted per app; `settled` says what each app's pass answers. */
function countingLoop(settled: Record<string, boolean>): { loop: ReconcileLoop; passes: Map<string, number> } {
  const passes = new Map<string, number>();
  const loop = new ReconcileLoop({
    // The passes below never fail: the store and the guard are not reached.
    store: {} as Store,
    storage: { fault: null } as StorageGuard,
    rolloutFailures: new Map(),
    log: () => {},
    pass: async (app) => {
      passes.set(app, (passes.get(app) ?? 0) + 1);
      return settled[app] ?? false;
    },
  });
  return { loop, passes };
}

describe('ReconcileLoop', () => {
  it('passes over a settled app on every tick, while an app with something under way gets a pass each tick', async () => {
    const { loop, passes } = countingLoop({ idle: true, busy: false });
    await loop.settle('idle');
    await loop.settle('busy');
    assert.deepEqual([passes.get('idle'), passes.get('busy')], [1, 1], 'precondition: each app had its first pass');
    for (let tick = 0; tick < 40; tick++) {
      loop.tick();
      await loop.settle('busy');
    }
    assert.equal(passes.get('idle'), 1, 'no pass for the settled app in 40 ticks (10 s of the controller)');
    assert.ok(passes.get('busy')! >= 40, `the busy app passed ${passes.get('busy')} times`);
    await loop.stop();
  });

  it('gives a settled app a pass as soon as something asks for one', async () => {
    const { loop, passes } = countingLoop({ idle: true });
    await loop.settle('idle');
    loop.tick();
    assert.equal(passes.get('idle'), 1, 'precondition: the tick left it alone');
    const asked = performance.now();
    await loop.settle('idle');
    assert.equal(passes.get('idle'), 2);
    assert.ok(performance.now() - asked < 100, 'the pass ran at once, not at a later tick');
    await loop.stop();
  });
});
