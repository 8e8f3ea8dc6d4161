import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import type { LongLivedDrain, TrafficPlan } from '../model/traffic-plan.js';
import { group, LOOPBACK, makePlan, startProxy, startUpstream, waitFor } from './proxy-fixtures.js';
import type { TestUpstream } from './proxy-fixtures.js';

/** An upstream with an event stream on /events and a WebSocket on upgrade, both ticking every 20 ms. */
async function tickingUpstream(name: string): Promise<{ upstream: TestUpstream; wss: WebSocketServer }> {
  const upstream = await startUpstream((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => res.write(`data: ${name}\n\n`), 20);
    res.on('close', () => clearInterval(timer));
  });
  const wss = new WebSocketServer({ server: upstream.server });
  wss.on('connection', (socket) => {
    const timer = setInterval(() => socket.send(name), 20);
    socket.on('close', () => clearInterval(timer));
  });
  return { upstream, wss };
}

interface Watched {
  /** Set once closed: the WebSocket's close code, or 'end' for a stream that ended cleanly. */
  outcome: string | undefined;
  messages: string[];
}

function openSocket(port: number): Promise<Watched> {
  const watched: Watched = { outcome: undefined, messages: [] };
  const socket = new WebSocket(`ws://${LOOPBACK}:${port}/`);
  socket.on('message', (data: Buffer) => watched.messages.push(data.toString()));
  socket.on('error', (error) => (watched.outcome = `error ${error.message}`));
  socket.on('close', (code) => (watched.outcome ??= String(code)));
  return once(socket, 'open').then(() => watched);
}

function openStream(port: number): Promise<Watched> {
  const watched: Watched = { outcome: undefined, messages: [] };
  return new Promise((resolve, reject) => {
    const req = request({ host: LOOPBACK, port, path: '/events' }, (res) => {
      res.on('data', (chunk: Buffer) => watched.messages.push(chunk.toString()));
      res.on('end', () => (watched.outcome ??= 'end'));
      res.on('aborted', () => (watched.outcome = 'aborted'));
      res.on('error', (error) => (watched.outcome = `error ${error.message}`));
      resolve(watched);
    });
    req.on('error', reject);
    req.end();
  });
}

async function scenario(longLived: LongLivedDrain, check: (watched: Watched[], movedAt: number) => Promise<void>): Promise<void> {
  const blue = await tickingUpstream('blue');
  const green = await tickingUpstream('green');
  const plan = (version: number, endpoint: ReturnType<TestUpstream['endpoint']>): TrafficPlan => ({
    ...makePlan(version, [group(version, 1, [endpoint])]),
    longLived,
  });
  const proxy = await startProxy(plan(1, blue.upstream.endpoint('blue')));
  try {
    const watched = await Promise.all([openSocket(proxy.port), openSocket(proxy.port), openStream(proxy.port), openStream(proxy.port)]);
    await waitFor(() => watched.every((w) => w.messages.length > 0), 'a first message on each');
    const movedAt = performance.now();
    await proxy.proxy.applyPlan(plan(2, green.upstream.endpoint('green')));
    const fresh = await openSocket(proxy.port);
    await waitFor(() => fresh.messages.length > 0, 'a message on the new socket');
    assert.match(fresh.messages[0]!, /green/, 'new connections land on the new endpoint');
    await check(watched, movedAt);
    await waitFor(() => proxy.proxy.inflight()['blue'] === undefined, 'no tunnel in flight on blue');
  } finally {
    await proxy.close();
    for (const side of [blue, green]) {
      for (const client of side.wss.clients) client.terminate();
      side.wss.close();
      await side.upstream.close();
    }
  }
}

describe('long-lived connections of a leaving endpoint', () => {
  test('drain: close ends WebSockets with close frame 1001 and event streams with their last chunk, at once', async () => {
    await scenario({ drain: 'close', timeoutMs: 60_000 }, async (watched) => {
      await waitFor(() => watched.every((w) => w.outcome !== undefined), 'every connection closed');
      assert.deepEqual(
        watched.map((w) => w.outcome),
        ['1001', '1001', 'end', 'end'],
      );
    });
  });

  test('drain: wait keeps them open until the timeout, then closes them just as cleanly', async () => {
    const timeoutMs = 400;
    await scenario({ drain: 'wait', timeoutMs }, async (watched, movedAt) => {
      const counts = watched.map((w) => w.messages.length);
      await waitFor(() => watched.every((w, i) => w.messages.length > counts[i]! + 2), 'more messages after the switch');
      await waitFor(() => watched.every((w) => w.outcome !== undefined), 'every connection closed');
      assert.ok(performance.now() - movedAt >= timeoutMs, 'not before the timeout');
      assert.deepEqual(
        watched.map((w) => w.outcome),
        ['1001', '1001', 'end', 'end'],
      );
      assert.ok(watched.every((w) => w.messages.every((m) => m.includes('blue'))));
    });
  });
});
