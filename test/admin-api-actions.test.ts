/**
 * The admin API's routes and actions through the typed client over TCP, with the token: the
 * read routes (apps, app, revisions, rollouts, instances, analysis, live, report), the actions
 * (deploy, pause, resume, promote, abort, rollback), and the Server-Sent-Events stream that
 * publishes each change as it is stored and a metrics tick each second.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CutoverClient, type StreamMessage } from '../src/index.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { loadConfig } from '../src/spec/index.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { sample } from './helpers/traffic.js';

const TOKEN = 'actions-test-token-0123456789abcdef';

describe('admin API actions and reads, with the token', () => {
  let daemon: DaemonFixture;
  let client: CutoverClient;
  const messages: StreamMessage[] = [];
  let watch: ReturnType<CutoverClient['watch']>;

  const specWith = (version: string) => loadConfig(daemon.configPath, { overrides: [`web.run.env.VERSION=${version}`] }).apps;
  const untilGate = (stepIndex: number) =>
    waitFor(
      `the canary to wait at step ${stepIndex + 1}`,
      async () => {
        const app = await client.app('web');
        return app.rollout?.phase === 'paused' && app.rollout.gate !== null && app.rollout.stepIndex === stepIndex;
      },
      20_000,
    );

  before(async () => {
    const adminPort = await findFreePort();
    daemon = await DaemonFixture.start(
      (port) =>
        sampleAppConfig(port, {
          replicas: 1,
          strategy: 'canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: {} }], abortScaleDownDelay: 0s }',
        }),
      {
        upArgs: ['--admin', `127.0.0.1:${adminPort}`],
        beforeUp: (fixture) => {
          fs.mkdirSync(fixture.dataDir, { recursive: true, mode: 0o700 });
          fs.writeFileSync(path.join(fixture.dataDir, 'admin-token'), `${TOKEN}\n`, { mode: 0o600 });
        },
      },
    );
    client = new CutoverClient({ url: `http://127.0.0.1:${adminPort}`, token: TOKEN });
  });

  after(async () => {
    watch?.close();
    await daemon?.stop();
  });

  test('apps, app, revisions, rollouts and instances describe the deployed app', async () => {
    const { apps } = await client.apps();
    assert.deepEqual(
      apps.map((a) => [a.name, a.stableRevision, a.state]),
      [['web', 1, 'stable']],
    );
    assert.deepEqual(
      apps[0]!.traffic.map((t) => [t.revision, t.weight]),
      [[1, 100]],
    );
    assert.equal((await client.app('web')).revision, 1);
    assert.deepEqual(
      (await client.revisions('web')).revisions.map((r) => [r.number, r.spec.run.env.VERSION]),
      [[1, '1']],
    );
    assert.equal((await client.rollouts('web')).rollouts[0]?.phase, 'promoted');
    assert.deepEqual(
      (await client.instances('web')).instances.map((i) => [i.revision, i.state]),
      [[1, 'ready']],
    );
    await assert.rejects(client.app('nope'), { code: 'APP_NOT_FOUND' });
    await assert.rejects(client.instances('nope'), { code: 'APP_NOT_FOUND' });
  });

  test('the event stream publishes each stored change and a metrics tick; deploy, pause and resume act', async () => {
    watch = client.watch((message) => messages.push(message), { app: 'web' });
    await waitFor('a first metrics tick', () => messages.some((m) => m.type === 'metrics'));
    const { results } = await client.deploy(specWith('2'));
    assert.equal(results[0]?.revision, 2);
    await untilGate(1);
    await waitFor('the gate event on the stream', () =>
      messages.some((m) => m.type === 'change' && m.event.kind === 'rollout-gate' && m.event.rolloutId === results[0]!.rolloutId),
    );
    const kinds = messages.flatMap((m) => (m.type === 'change' ? [m.event.kind] : []));
    assert.ok(kinds.includes('rollout-started') && kinds.includes('traffic'), kinds.join(', '));
    const ids = messages.flatMap((m) => (m.type === 'change' ? [m.event.id] : []));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'changes arrive in order, once each',
    );
    assert.equal(new Set(ids).size, ids.length);

    assert.notEqual((await client.pause('web')).rollout.pausedAt, null);
    assert.equal((await client.apps()).apps[0]!.state, 'paused');
    assert.equal((await client.resume('web')).rollout.pausedAt, null);
  });

  test('live and the metrics ticks carry per-revision request rates', async () => {
    await sample(daemon.origin, 400, { connections: 4 });
    await waitFor('requests to both revisions in /live', async () => {
      const revisions = (await client.live('web')).apps[0]?.revisions ?? [];
      return [1, 2].every((n) => (revisions.find((r) => r.revision === n)?.requestsPerSecond ?? 0) > 0);
    });
    await waitFor('a tick with requests on the stream', () =>
      messages.some((m) => m.type === 'metrics' && (m.metrics.apps[0]?.revisions.find((r) => r.revision === 2)?.requestsPerSecond ?? 0) > 0),
    );
    const tick = (await client.live('web')).apps[0]!.revisions.find((r) => r.revision === 2)!;
    assert.equal(tick.errorsPerSecond, 0);
    assert.equal(tick.errorRate, 0);
  });

  test('promote passes a gate, abort sends traffic back, analysis answers for the rollout', async () => {
    const rolloutId = (await client.app('web')).rollout!.id;
    await client.promote('web');
    await untilGate(3);
    assert.deepEqual(
      (await client.app('web')).traffic.map((t) => [t.revision, t.weight]),
      [
        [2, 50],
        [1, 50],
      ],
    );
    assert.equal((await client.abort('web')).rollout.phase, 'aborted');
    assert.deepEqual(
      (await client.app('web')).traffic.map((t) => [t.revision, t.weight]),
      [[1, 100]],
    );
    const analysis = await client.analysis(rolloutId);
    assert.equal(analysis.rolloutId, rolloutId);
    assert.deepEqual(analysis.runs, []);
    await assert.rejects(client.analysis(99_999), { code: 'ROLLOUT_NOT_FOUND' });
  });

  test('a full promote, then rollback goes back to the revision before', async () => {
    const [result] = (await client.deploy(specWith('3'))).results;
    await untilGate(1);
    await client.promote('web', { full: true });
    await waitFor('revision 3 promoted', async () => (await client.app('web')).rollout?.phase === 'promoted', 20_000);
    const { rollout } = await client.rollback('web');
    assert.equal(rollout.toRevision, 1);
    assert.notEqual(rollout.id, result!.rolloutId);
    await waitFor('the rollback to end', async () => (await client.app('web')).rollout?.phase === 'rolled-back', 20_000).catch(async (error) => {
      throw new Error(`${(error as Error).message}: ${JSON.stringify((await client.app('web')).rollout)}`);
    });
    assert.equal((await client.apps()).apps[0]!.stableRevision, 1);
    assert.deepEqual(
      (await client.rollouts('web')).rollouts.slice(0, 3).map((r) => [r.trigger, r.toRevision]),
      [
        ['rollback', 1],
        ['deploy', 3],
        ['deploy', 2],
      ],
    );
  });

  test('a stream opened with afterId replays what was stored after that event', async () => {
    const replayed: StreamMessage[] = [];
    const again = client.watch((m) => replayed.push(m), { app: 'web', afterId: 0 });
    try {
      await waitFor('the replayed gate events', () => replayed.filter((m) => m.type === 'change' && m.event.kind === 'rollout-gate').length >= 2);
      const first = replayed.find((m) => m.type === 'change');
      assert.equal(first?.type === 'change' && first.event.kind, 'rollout-started');
    } finally {
      again.close();
    }
  });
});
