import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { sample } from './helpers/traffic.js';
import { watchWebSocket, type WatchedConnection } from './helpers/watched-websocket.js';

const CONNECTIONS = 20;
const LONG_LIVED_TIMEOUT_MS = 3_000;

interface Watched extends WatchedConnection {
  kind: 'ws' | 'sse';
  /** The WebSocket close code, 'end' for a stream that ended cleanly, or what went wrong. */
  outcome: string | undefined;
}

function openSocket(origin: string): Promise<Watched> {
  return watchWebSocket<Watched>({ kind: 'ws', outcome: undefined, closedAt: 0, messages: [] }, `${origin.replace('http', 'ws')}/ws`);
}

function openStream(origin: string): Promise<Watched> {
  const watched: Watched = { kind: 'sse', outcome: undefined, closedAt: 0, messages: [] };
  return new Promise((resolve, reject) => {
    const req = http.get(`${origin}/events`, { agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => watched.messages.push(chunk.toString()));
      res.on('end', () => {
        watched.outcome ??= 'end';
        watched.closedAt = performance.now();
      });
      res.on('aborted', () => (watched.outcome = 'aborted'));
      res.on('error', (error) => (watched.outcome = `error ${error.message}`));
      resolve(watched);
    });
    req.on('error', reject);
  });
}

/** The revision that answers one GET (a fresh connection), or 'failed'. */
function revisionAnswering(origin: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(origin, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? String(res.headers['x-cutover-revision']) : 'failed'));
    });
    req.on('error', () => resolve('failed'));
  });
}

describe('long-lived connections through a blue-green switch', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) =>
      sampleAppConfig(port, {
        replicas: 2,
        env: { TICK_MS: '100' },
        strategy: 'blueGreen: { autoPromote: 0s, scaleDownDelay: 0s }',
        extra: `    longLived: { drain: wait, timeout: ${LONG_LIVED_TIMEOUT_MS}ms }`,
      }),
    );
  });
  after(async () => daemon?.stop());

  it('20 WebSockets and 20 event streams stay open until the long-lived timeout, then close cleanly; new ones land on green', async () => {
    // Given 20 WebSockets and 20 event streams on blue (revision 1)
    const watched = await Promise.all([
      ...Array.from({ length: CONNECTIONS }, () => openSocket(daemon.origin)),
      ...Array.from({ length: CONNECTIONS }, () => openStream(daemon.origin)),
    ]);
    await waitFor('a first message on each', () => watched.every((w) => w.messages.length > 0));
    assert.ok(watched.every((w) => w.messages[0]!.includes('v1')));

    // When green is deployed and traffic switches to it, while a client keeps asking who
    // answers: the switch came after the last request blue answered was sent
    const deploying = daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2']);
    let lastBlueSentAt = performance.now();
    const probes: Record<string, number> = {};
    for (;;) {
      const sentAt = performance.now();
      const revision = await revisionAnswering(daemon.origin);
      probes[revision] = (probes[revision] ?? 0) + 1;
      if (revision === '2') break;
      if (revision === '1') lastBlueSentAt = sentAt;
      await sleep(20);
    }
    const deploy = await deploying;
    assert.equal(deploy.code, 0, deploy.stderr + daemon.logTail());
    // A failed probe is a failed request, and the switch time is measured from blue's last
    // answer: blue must have answered at least once after the deploy began.
    assert.equal(probes['failed'] ?? 0, 0, `probes during the switch: ${JSON.stringify(probes)}`);
    assert.ok((probes['1'] ?? 0) > 0, `blue answered no probe before the switch: ${JSON.stringify(probes)}`);

    // Then new connections and requests land on green while blue's stay open
    const fresh = await openSocket(daemon.origin);
    await waitFor('a message on the new socket', () => fresh.messages.length > 0);
    assert.match(fresh.messages[0]!, /v2/);
    assert.deepEqual((await sample(daemon.origin, 50)).byRevision, { 2: 50 });
    // (On a loaded machine these checks may take longer than the long-lived timeout: what is
    // closed by now must have lasted that long.)
    assert.ok(
      watched.every((w) => w.outcome === undefined || w.closedAt - lastBlueSentAt >= LONG_LIVED_TIMEOUT_MS),
      'nothing cut at the switch',
    );

    // And every old one is closed cleanly, none before the long-lived timeout: WebSockets with
    // close frame 1001, event streams with their last chunk
    await waitFor('every old connection closed', () => watched.every((w) => w.outcome !== undefined), 30_000);
    const outcomes: Record<string, number> = {};
    for (const w of watched) outcomes[`${w.kind} ${w.outcome}`] = (outcomes[`${w.kind} ${w.outcome}`] ?? 0) + 1;
    assert.deepEqual(outcomes, { 'ws 1001': CONNECTIONS, 'sse end': CONNECTIONS });
    const earliest = Math.min(...watched.map((w) => w.closedAt)) - lastBlueSentAt;
    assert.ok(earliest >= LONG_LIVED_TIMEOUT_MS, `the first closed ${Math.round(earliest)} ms after the switch`);
    assert.ok(
      watched.every((w) => w.messages.every((m) => !m.includes('v2'))),
      'old connections stayed on blue',
    );

    // And blue is stopped once they are gone
    await waitFor('blue stopped', async () => (await daemon.status()).apps[0]!.instances.every((i) => i.revision === 2), 20_000);
  });
});
