import type { ContainerEngine } from '../../model/app-spec.js';
import type { EventSink } from '../../model/event-kinds.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { Store } from '../../store/store.js';
import type { LocalFleet } from './local-fleet.js';

/**
 * Instances recorded as live by an earlier controller keep running and serving when they are
 * what the record says: the same process (pid and start time), listening on the same port,
 * and healthy (checked at once, judged like any instance). One that is gone is recorded as
 * stopped; a pid that now names another process is left alone; one of ours that no longer
 * listens is failed (out of traffic first, then stopped) and replaced. A record
 * without a pid (the controller died while starting it) has its process found and stopped.
 */
export async function adoptLeftovers(
  fleet: LocalFleet,
  deps: { store: Store; runtime: Runtime; events: EventSink; monotonicFrom: (wallClockMs: number) => number },
): Promise<void> {
  const { store, runtime, events } = deps;
  const checks: Promise<void>[] = [];
  for (const record of store.listInstances(undefined, { includeStopped: true }).filter((i) => i.stoppedAt === null && i.state !== 'stopped')) {
    const spec = store.getRevision(record.app, record.revision)?.spec;
    if (record.pid === null) {
      checks.push(
        runtime.stopUnrecorded(record.id).then((found) => {
          const why = found ? 'stopped: the controller died while starting it' : 'never started: the controller died before starting it';
          store.upsertInstance({ ...record, state: 'stopped', reason: why, stoppedAt: Date.now() });
        }),
      );
      continue;
    }
    const adopted = spec ? runtime.adopt({ pid: record.pid, identity: record.identity, port: record.port, logPath: record.logPath }) : null;
    if (!spec || !adopted) {
      store.upsertInstance({ ...record, state: 'stopped', reason: 'gone when the controller restarted', stoppedAt: Date.now() });
      continue;
    }
    const readyAtMs = record.state === 'ready' && record.readyAt !== null ? deps.monotonicFrom(record.readyAt) : null;
    const instance = fleet.manage(record, adopted, spec, record.rolloutId, { startedAtMs: deps.monotonicFrom(record.startedAt), readyAtMs });
    events.emitForApp(record.app, 'instance-adopted', `${record.id} adopted (${record.state}, pid ${record.pid}, port ${record.port})`);
    if (record.state === 'draining') fleet.beginStop(instance, 'it was draining when the controller restarted');
    else if (record.state === 'failed') fleet.beginStop(instance, record.reason ?? 'it had failed', { keepState: true });
    else if (record.state === 'ready' && !adopted.isListening) fleet.fail(instance, `no longer listens on port ${record.port} after the controller restarted`);
    // A ready one is health-checked at once (see manage) and, like any ready instance, replaced
    // after unhealthyThreshold failed checks in a row, never as the last ready one: a single
    // slow answer from a loaded machine must not empty the pool.
  }
  await Promise.all(checks);
  await sweepContainers(deps);
}

/**
 * Containers of this data dir that no live record names (started by a controller that died
 * before recording them, or left by a `down` that was cut short) are removed; only engines some
 * app's revisions use are asked, so an app without containers never waits for an engine.
 */
async function sweepContainers(deps: { store: Store; runtime: Runtime; events: EventSink }): Promise<void> {
  const { store, runtime } = deps;
  if (!runtime.sweep) return;
  const engines = new Set<ContainerEngine>();
  for (const { name } of store.listApps()) {
    const runtimeSpec = store.latestRevision(name)?.spec.runtime;
    if (runtimeSpec?.kind === 'container' && runtimeSpec.resolved) engines.add(runtimeSpec.resolved.engine);
  }
  if (engines.size === 0) return;
  const keep = new Set(store.listInstances(undefined, { includeStopped: false }).map((i) => i.id));
  for (const instanceId of await runtime.sweep(keep, [...engines])) {
    const app = store.listApps().find((a) => instanceId.startsWith(`${a.name}-`))?.name;
    if (app) deps.events.emitForApp(app, 'instance-stopped', `${instanceId}: removed its container, which no rollout owns`);
  }
}
