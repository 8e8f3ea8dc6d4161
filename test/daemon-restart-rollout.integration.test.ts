import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import type { AppStatus } from '../src/protocol/status.js';
import { isAlive } from '../src/daemon/daemon-lock.js';
import { givenDaemonForTest, sampleAppConfig, waitFor, type DaemonFixture } from './helpers/daemon-fixture.js';

/** Revision 2's instances take this long to listen, so a rolling rollout has an instance starting when the restart comes. */
const SLOW_START_MS = 2_500;
const slowStart = `setTimeout(() => import('./server.js'), process.env.VERSION === '2' ? ${SLOW_START_MS} : 0)`;

function withSlowStart(config: string): string {
  const slowed = config.replace('server.js]', `-e, ${JSON.stringify(slowStart)}]`);
  assert.notEqual(slowed, config, 'the command was replaced');
  return slowed;
}

function daemonPid(daemon: DaemonFixture): number {
  return Number(fs.readFileSync(path.join(daemon.dataDir, 'daemon.pid'), 'utf8'));
}

async function web(daemon: DaemonFixture): Promise<AppStatus> {
  return (await daemon.status()).apps.find((a) => a.name === 'web')!;
}

function livePids(app: AppStatus, revision: number): number[] {
  return app.instances
    .filter((i) => i.revision === revision && (i.state === 'ready' || i.state === 'starting'))
    .map((i) => i.pid!)
    .sort((a, b) => a - b);
}

/** The ids of the instances of `revision` the daemon log says were started, in order (one line per start). */
function startedInstances(daemon: DaemonFixture, revision: number): string[] {
  const log = fs.readFileSync(path.join(daemon.dataDir, 'daemon.log'), 'utf8');
  return [...log.matchAll(new RegExp(`\\] (\\S+) starting \\(revision ${revision}, pid`, 'g'))].map((m) => m[1]!);
}

function startLoad(daemon: DaemonFixture): LoadClient {
  const load = new LoadClient({ origin: daemon.origin, clients: 16, postShare: 0.25, pauseMs: () => 5 + Math.random() * 10, maxDurationMs: 240_000 });
  load.start();
  return load;
}

/** `cutover restart`, checked: exit 0 and a new daemon pid. */
async function restartDaemon(t: TestContext, daemon: DaemonFixture): Promise<void> {
  const before = daemonPid(daemon);
  const startedAt = performance.now();
  const result = await daemon.cli(['restart']);
  assert.equal(result.code, 0, `restart exited ${result.code}: ${result.stderr}\n${daemon.logTail()}`);
  assert.notEqual(daemonPid(daemon), before, 'the daemon pid changed');
  t.diagnostic(`restart took ${Math.round(performance.now() - startedAt)} ms`);
}

/** The status line of the one response `socket` receives (the connection ends after it: `Connection: close`). */
async function statusLineOf(socket: net.Socket): Promise<string> {
  let received = '';
  for await (const chunk of socket as AsyncIterable<Buffer>) received += chunk.toString('latin1');
  return received.split('\r\n', 1)[0]!;
}

describe('cutover restart during a rollout (issue 20): the rollout goes on from where it was', () => {
  it('a canary waiting at a gate waits there after the restart (same rollout, step and weight); promote then completes it; 0 failed', async (t) => {
    // Given a canary of revision 2 waiting at its pause gate at 34 %, under load
    const daemon = await givenDaemonForTest(t, (port) =>
      sampleAppConfig(port, { replicas: 3, strategy: 'canary: { steps: [{ setWeight: 34 }, { pause: {} }], abortScaleDownDelay: 0s }' }),
    );
    const load = startLoad(daemon);
    t.after(() => load.stop());
    await waitFor('some load', () => load.snapshot().requests > 200, 20_000);
    const deploy = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, deploy.stderr);
    await waitFor('the canary at its gate', async () => (await web(daemon)).rollout?.gate != null, 30_000);
    const atGate = await web(daemon);
    const rollout = atGate.rollout!;
    assert.equal(rollout.toRevision, 2);
    assert.equal(rollout.stepIndex, 1, 'precondition: at the pause step');
    assert.ok(livePids(atGate, 2).length > 0, 'precondition: canary instances run');
    const canaryShare = atGate.traffic.find((s) => s.revision === 2);
    assert.ok(
      canaryShare !== undefined && canaryShare.weight > 0 && canaryShare.weight < 100,
      `precondition: a canary share (${JSON.stringify(atGate.traffic)})`,
    );

    // When the daemon is restarted
    await restartDaemon(t, daemon);

    // Then the same rollout waits at the same gate, with the same instances and split
    const after = await web(daemon);
    assert.equal(after.rollout?.id, rollout.id, 'the same rollout');
    assert.equal(after.rollout?.phase, rollout.phase);
    assert.equal(after.rollout?.stepIndex, rollout.stepIndex, 'the same step');
    assert.equal(after.rollout?.gate, rollout.gate, 'the same gate');
    assert.deepEqual(after.traffic, atGate.traffic, 'the same split');
    assert.deepEqual(livePids(after, 1), livePids(atGate, 1), 'the stable instances were adopted');
    assert.deepEqual(livePids(after, 2), livePids(atGate, 2), 'the canary instance was adopted');
    const served = load.snapshot().requests;
    await waitFor('load through the new daemon', () => load.snapshot().requests > served + 200, 20_000);

    // And promote completes it
    const promote = await daemon.cli(['promote', 'web']);
    assert.equal(promote.code, 0, `${promote.stdout}\n${promote.stderr}`);
    await waitFor('the rollout promoted', async () => (await daemon.client.rollout(rollout.id)).phase === 'promoted', 30_000);
    const promoted = await web(daemon);
    assert.equal(promoted.revision, 2);
    assert.equal(promoted.rollout?.id, rollout.id);
    const report = await load.stop();
    assert.deepEqual(report.failures.slice(0, 5), []);
    assert.equal(report.failed, 0);
    assert.ok(report.requests > 1000, `only ${report.requests} requests`);
    t.diagnostic(`canary at a gate: ${report.requests} requests, ${report.failed} failed`);
  });

  it('a rolling rollout with slow-starting instances goes on after a restart in its middle: same rollout promoted, no instance started twice, 0 failed', async (t) => {
    // Given a rolling rollout of 3 instances whose new ones take 2.5 s to listen, under load
    const daemon = await givenDaemonForTest(t, (port) => withSlowStart(sampleAppConfig(port, { replicas: 3, startupTimeout: '20s' })));
    const load = startLoad(daemon);
    t.after(() => load.stop());
    await waitFor('some load', () => load.snapshot().requests > 200, 20_000);
    const deploy = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, deploy.stderr);
    // Wait until one new instance serves and the next one is starting: the rollout is mid-way.
    await waitFor(
      'one new instance ready and another starting',
      async () => {
        const app = await web(daemon);
        const fresh = app.instances.filter((i) => i.revision === 2);
        return fresh.some((i) => i.state === 'ready') && fresh.some((i) => i.state === 'starting');
      },
      60_000,
    );
    const mid = await web(daemon);
    const rollout = mid.rollout!;
    assert.equal(rollout.phase, 'progressing', 'precondition: the rollout runs');
    assert.equal(rollout.toRevision, 2);
    assert.ok(livePids(mid, 1).length > 0, 'precondition: old instances still serve');
    const startedBefore = startedInstances(daemon, 2);
    assert.ok(startedBefore.length >= 2 && startedBefore.length < 3 + 1, `precondition: 2 new instances started so far (${startedBefore.join(', ')})`);

    // When the daemon is restarted
    await restartDaemon(t, daemon);
    const after = await web(daemon);
    assert.equal(after.rollout?.id, rollout.id, 'the same rollout');
    assert.deepEqual(
      livePids(after, 2).filter((pid) => livePids(mid, 2).includes(pid)),
      livePids(mid, 2),
      'the new instances started before the restart were adopted',
    );

    // Then the same rollout finishes
    await waitFor('the rollout promoted', async () => (await daemon.client.rollout(rollout.id)).phase === 'promoted', 90_000);
    const done = await web(daemon);
    assert.equal(done.revision, 2);
    assert.equal(done.rollout?.id, rollout.id);
    assert.equal(livePids(done, 2).length, 3);
    const started = startedInstances(daemon, 2);
    assert.equal(new Set(started).size, started.length, `no instance started twice: ${started.join(', ')}`);
    assert.equal(started.length, 3, `3 new instances started in all, none replaced: ${started.join(', ')}`);
    const report = await load.stop();
    assert.deepEqual(report.failures.slice(0, 5), []);
    assert.equal(report.failed, 0);
    assert.ok(report.requests > 1000, `only ${report.requests} requests`);
    t.diagnostic(`rolling mid-way: ${report.requests} requests, ${report.failed} failed`);
  });

  it('a request the old daemon reads after the handover goes to a live instance: the instances its plans route to stop only once it has gone', async (t) => {
    // Given a slow client that has sent half of its request head to the daemon
    const daemon = await givenDaemonForTest(t, (port) => sampleAppConfig(port, { replicas: 1 }));
    const oldPid = daemonPid(daemon);
    const oldInstance = livePids(await web(daemon), 1);
    assert.equal(oldInstance.length, 1, 'precondition: one instance of revision 1');
    const socket = net.connect(daemon.port, '127.0.0.1');
    t.after(() => socket.destroy());
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');

    // When the daemon is restarted, and a deploy replaces the instance the old daemon's plan routes to
    await restartDaemon(t, daemon);
    const deploy = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, `${deploy.stdout}\n${deploy.stderr}`);
    await waitFor('all traffic on revision 2', async () => (await web(daemon)).traffic.every((s) => s.revision === 2 || s.weight === 0), 20_000);
    // The old worker holds the connection, so the rest of the request is routed by its plan of before the restart.
    assert.ok(isAlive(oldPid), 'precondition: the old daemon still runs (it holds the half-sent request)');

    // Then the rest of the request is served, by an instance that lives (the old code: 502)
    const statusLine = statusLineOf(socket);
    socket.write('Connection: close\r\n\r\n');
    assert.equal(await statusLine, 'HTTP/1.1 200 OK');
    // And the old instance stops once the old daemon has gone
    await waitFor('the old daemon gone', () => !isAlive(oldPid), 40_000);
    await waitFor('the old instance stopped', () => !isAlive(oldInstance[0]!), 20_000);
  });
});
