// A child process that writes to a state database as fast as it can, through the real store,
// until it is killed. Prints "writing" once it has begun. Usage: node store-writer.js DB_PATH
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { resolveBlueGreen, resolveCanary } from '../../src/spec/resolve-config.js';

const store = new SqliteStore(process.argv[2]!);
const strategySpec = {
  use: 'rolling' as const,
  rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0, progressDeadlineMs: 600_000 },
  blueGreen: resolveBlueGreen(),
  canary: resolveCanary(),
};
let n = 0;
process.stdout.write('writing\n');
for (;;) {
  n += 1;
  const app = `app-${n % 7}`;
  const revision = store.addRevision(app, { name: app } as never, `hash-${n}`);
  const active = store.activeRollout(app);
  if (active) store.updateRollout(active.id, { phase: 'promoted', step: `done ${n}` });
  else store.createRollout({ app, strategy: 'rolling', strategySpec, trigger: 'deploy', fromRevision: null, toRevision: revision.number });
  store.upsertInstance({
    id: `i-${n % 50}`,
    app,
    revision: revision.number,
    pid: n,
    identity: String(n),
    rolloutId: null,
    port: 1000 + (n % 50),
    state: 'ready',
    reason: null,
    logPath: `/tmp/x-${n}`,
    startedAt: n,
    readyAt: n,
    stoppedAt: null,
  });
  store.addEvent(app, null, 'traffic', 'x'.repeat(n % 500));
  if (n % 200 === 0) store.prune({ keepEvents: 1_000, keepEndedInstances: 10 });
}
