import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { MirrorRule, TrafficPlan } from '../model/traffic-plan.js';
import { MIRROR_HEADER } from './forwarded-headers.js';
import {
  countBodies,
  group,
  heldResponses,
  LOOPBACK,
  makePlan,
  namedUpstream,
  refusedPort,
  send,
  sendMany,
  startProxy,
  startUpstream,
  waitFor,
} from './proxy-fixtures.js';
import type { TestUpstream } from './proxy-fixtures.js';

interface Received {
  method: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An upstream answering `200 shadow` that records every request it read completely. */
async function recordingUpstream(): Promise<TestUpstream & { bodies: Received[] }> {
  const bodies: Received[] = [];
  const upstream = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.end('shadow');
    });
  });
  return Object.assign(upstream, { bodies });
}

/** Stable takes every request by weight; the shadow revision (weight 0) gets the copies. */
function mirrorPlan(stable: TestUpstream, shadow: { port: number }, mirror: MirrorRule, extra: Partial<TrafficPlan> = {}): TrafficPlan {
  return {
    ...makePlan(1, [group(1, 100, [stable.endpoint('stable')]), group(2, 0, [{ id: 'shadow', host: LOOPBACK, port: shadow.port }])]),
    mirror,
    ...extra,
  };
}

describe('ProxyServer mirroring', () => {
  test('clients are answered by stable only, while the mirror revision gets every other request marked as a copy', async () => {
    const stable = await namedUpstream('stable');
    const shadow = await recordingUpstream();
    const plan = mirrorPlan(
      stable,
      shadow,
      { revision: 2, percent: 50 },
      {
        routes: [{ revision: 1, match: { header: { name: 'x-pinned', value: '1' } } }],
      },
    );
    const proxy = await startProxy(plan);
    try {
      // A client cannot pass its request off as a copy.
      const responses = await sendMany(proxy.port, 200, (i) => ({ agent: proxy.agent, path: `/item/${i}`, headers: { [MIRROR_HEADER]: 'spoofed' } }));
      assert.deepEqual(countBodies(responses), { stable: 200 });
      await waitFor(() => shadow.bodies.length === 100, 'the mirror to receive half of the requests');
      assert.ok(shadow.bodies.every((copy) => copy.headers[MIRROR_HEADER] === '1'));
      assert.equal(new Set(shadow.received.map((req) => req.url)).size, 100, 'each copied request once');
      assert.ok(
        stable.received.every((req) => req.headers[MIRROR_HEADER] === undefined),
        'the real requests are not marked',
      );

      // Routed requests are not copied.
      await sendMany(proxy.port, 50, () => ({ agent: proxy.agent, headers: { 'x-pinned': '1' } }));
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'every request and copy to end');
      assert.equal(shadow.count(), 100);
    } finally {
      await proxy.close();
      await stable.close();
      await shadow.close();
    }
  });

  test('at 10 percent one request in ten is copied', async () => {
    const stable = await namedUpstream('stable');
    const shadow = await recordingUpstream();
    const proxy = await startProxy(mirrorPlan(stable, shadow, { revision: 2, percent: 10 }));
    try {
      await sendMany(proxy.port, 500, () => ({ agent: proxy.agent }));
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'every request and copy to end');
      assert.equal(shadow.count(), 50);
    } finally {
      await proxy.close();
      await stable.close();
      await shadow.close();
    }
  });

  test('a mirror that never answers neither delays nor fails clients, and copies in flight stay within the cap', async () => {
    const stable = await namedUpstream('stable');
    const hanging = heldResponses();
    const shadow = await startUpstream(hanging.handler);
    const proxy = await startProxy(mirrorPlan(stable, shadow, { revision: 2, percent: 100 }), { mirrorMaxConcurrent: 4 });
    try {
      let mostCopies = 0;
      const responses = await sendMany(proxy.port, 300, () => {
        mostCopies = Math.max(mostCopies, proxy.proxy.inflight().shadow ?? 0);
        return { agent: proxy.agent, method: 'POST', body: 'payload' };
      });
      assert.deepEqual(countBodies(responses), { stable: 300 });
      assert.ok(responses.every((res) => res.status === 200));
      await waitFor(() => shadow.count() === 4, 'the cap of copies to reach the hanging mirror');
      assert.ok(mostCopies <= 4, `at most 4 copies in flight, saw ${mostCopies}`);
      assert.deepEqual(proxy.proxy.inflight(), { shadow: 4 }, 'copies count in flight on the mirror endpoint');

      // Once the mirror answers, copies resume.
      hanging.release();
      await waitFor(() => proxy.proxy.inflight().shadow === undefined, 'the held copies to end');
      await sendMany(proxy.port, 3, () => ({ agent: proxy.agent }));
      await waitFor(() => shadow.count() === 7, 'new copies to reach the mirror');
    } finally {
      hanging.release();
      await proxy.close();
      await stable.close();
      await shadow.close();
    }
  });

  test('a copy that gets no answer within mirrorTimeoutMs is dropped and frees its slot', async () => {
    const stable = await namedUpstream('stable');
    const hanging = heldResponses();
    const shadow = await startUpstream(hanging.handler);
    const proxy = await startProxy(mirrorPlan(stable, shadow, { revision: 2, percent: 100 }), { mirrorMaxConcurrent: 1, mirrorTimeoutMs: 50 });
    try {
      assert.equal((await send(proxy.port)).text, 'stable');
      await waitFor(() => shadow.count() === 1, 'the copy to reach the mirror');
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'the copy to time out');
      assert.equal((await send(proxy.port)).text, 'stable');
      await waitFor(() => shadow.count() === 2, 'the next copy to take the freed slot');
    } finally {
      hanging.release();
      await proxy.close();
      await stable.close();
      await shadow.close();
    }
  });

  test('a mirror that resets connections or refuses them fails no client request', async () => {
    const stable = await namedUpstream('stable');
    const resetting = await startUpstream((req) => req.socket.destroy());
    const refused = { port: await refusedPort() };
    for (const shadow of [resetting, refused]) {
      const proxy = await startProxy(mirrorPlan(stable, shadow, { revision: 2, percent: 100 }));
      try {
        const responses = await sendMany(proxy.port, 200, (i) => ({
          agent: proxy.agent,
          method: i % 2 === 0 ? 'GET' : 'POST',
          body: i % 2 === 0 ? undefined : 'payload',
        }));
        assert.deepEqual(countBodies(responses), { stable: 200 });
        await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'every failed copy to end');
      } finally {
        await proxy.close();
      }
    }
    assert.ok(resetting.count() > 0);
    await stable.close();
    await resetting.close();
  });

  test('request bodies under the cap are mirrored intact, buffered or chunked; larger ones are not copied', async () => {
    const stable = await recordingUpstream();
    const shadow = await recordingUpstream();
    const proxy = await startProxy(mirrorPlan(stable, shadow, { revision: 2, percent: 100 }), { mirrorMaxBodyBytes: 48 * 1024 });
    try {
      const small = Buffer.alloc(10_000, 'a');
      const chunked = Buffer.alloc(40_000, 'b');
      const large = Buffer.alloc(100_000, 'c');
      const largeChunked = Buffer.alloc(60_000, 'd');
      assert.equal((await send(proxy.port, { method: 'POST', body: small })).status, 200);
      assert.equal((await send(proxy.port, { method: 'PUT', body: chunked, headers: { 'transfer-encoding': 'chunked' } })).status, 200);
      assert.equal((await send(proxy.port, { method: 'POST', body: large })).status, 200);
      assert.equal((await send(proxy.port, { method: 'POST', body: largeChunked, headers: { 'transfer-encoding': 'chunked' } })).status, 200);
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'every request and copy to end');

      assert.deepEqual(
        stable.bodies.map((req) => req.body.length),
        [10_000, 40_000, 100_000, 60_000],
        'the real upstream got every body whole',
      );
      assert.equal(shadow.bodies.length, 2);
      assert.equal(shadow.bodies[0]!.method, 'POST');
      assert.ok(shadow.bodies[0]!.body.equals(small));
      assert.equal(shadow.bodies[1]!.method, 'PUT');
      assert.ok(shadow.bodies[1]!.body.equals(chunked));
    } finally {
      await proxy.close();
      await stable.close();
      await shadow.close();
    }
  });

  test('a streamed body the real upstream never read is not copied truncated, and its copy is given up', async () => {
    const shadow = await recordingUpstream();
    const deadPort = await refusedPort();
    const plan: TrafficPlan = {
      ...makePlan(1, [group(1, 100, [{ id: 'dead', host: LOOPBACK, port: deadPort }]), group(2, 0, [{ id: 'shadow', host: LOOPBACK, port: shadow.port }])]),
      mirror: { revision: 2, percent: 100 },
    };
    const proxy = await startProxy(plan);
    try {
      // A small body arrives with the head, so Node keeps it unread; a larger one is discarded.
      // (With a body cap, the proxy reads a chunked body as it comes: a copy may then be whole.)
      const sent: Buffer[] = [];
      for (const size of [200, 20_000]) {
        const body = Buffer.alloc(size, 'e');
        sent.push(body);
        const res = await send(proxy.port, { method: 'POST', body, headers: { 'transfer-encoding': 'chunked' } });
        assert.equal(res.status, 502);
        await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, `the copy of the ${size}-byte request to be given up`);
        assert.ok(
          shadow.bodies.every((copy) => sent.some((b) => copy.body.equals(b))),
          `no truncated copy: ${shadow.bodies.map((c) => c.body.length).join(',')} of ${size}`,
        );
      }
    } finally {
      await proxy.close();
      await shadow.close();
    }
  });

  test('a WebSocket upgrade is never mirrored', async () => {
    const acceptUpgrades = (server: Server): void => {
      server.on('upgrade', (_req, socket: Socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
    };
    const stable = await startUpstream(undefined, acceptUpgrades);
    const shadow = await startUpstream(undefined, acceptUpgrades);
    let shadowUpgrades = 0;
    shadow.server.on('upgrade', () => shadowUpgrades++);
    const proxy = await startProxy(mirrorPlan(stable, shadow, { revision: 2, percent: 100 }));
    try {
      for (let i = 0; i < 3; i++) {
        const socket = connect({ host: LOOPBACK, port: proxy.port });
        await once(socket, 'connect');
        socket.write(
          'GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
        let response = '';
        socket.on('data', (data: Buffer) => (response += data.toString()));
        await waitFor(() => response.includes('\r\n\r\n'), 'the handshake answer');
        assert.match(response, /^HTTP\/1\.1 101 /);
        socket.destroy();
      }
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'the tunnels to end');
      assert.equal(shadowUpgrades, 0);
      assert.equal(shadow.count(), 0);
    } finally {
      await proxy.close();
      await stable.close();
      await shadow.close();
    }
  });
});
