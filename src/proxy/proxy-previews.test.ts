import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { PreviewListener, TrafficPlan } from '../model/traffic-plan.js';
import {
  countBodies,
  group,
  heldResponses,
  isAccepting,
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
import { ProxyServer } from './proxy-server.js';

/** Blue serves all weighted traffic; green is reachable only through the previews. */
function previewPlan(version: number, blue: TestUpstream, green: TestUpstream, previews: PreviewListener[]): TrafficPlan {
  return { ...makePlan(version, [group(1, 100, [blue.endpoint('blue')]), group(2, 0, [green.endpoint('green')])]), previews };
}

const anyPort = (revision: number): PreviewListener => ({ listen: { host: LOOPBACK, port: 0 }, revision });

describe('ProxyServer preview listeners', () => {
  test('every request on a preview listener reaches its revision, while the main listener follows the weights', async () => {
    const blue = await namedUpstream('blue');
    const green = await namedUpstream('green');
    const proxy = await startProxy(previewPlan(1, blue, green, [anyPort(2), anyPort(1)]));
    try {
      const greenPort = proxy.proxy.previewAddress('web', 2)?.port;
      const bluePort = proxy.proxy.previewAddress('web', 1)?.port;
      assert.ok(greenPort !== undefined && bluePort !== undefined);
      assert.notEqual(greenPort, proxy.port);
      assert.equal(proxy.proxy.previewAddress('web', 3), undefined);
      assert.deepEqual(countBodies(await sendMany(greenPort, 100, () => ({ agent: proxy.agent }))), { green: 100 });
      assert.deepEqual(countBodies(await sendMany(bluePort, 20, () => ({ agent: proxy.agent, method: 'POST', body: 'x' }))), { blue: 20 });
      assert.deepEqual(countBodies(await sendMany(proxy.port, 50, () => ({ agent: proxy.agent }))), { blue: 50 });
    } finally {
      await proxy.close();
      await blue.close();
      await green.close();
    }
  });

  test('a WebSocket upgrade on a preview listener reaches its revision', async () => {
    const handshakes: string[] = [];
    const acceptUpgrades = (name: string) => (server: Server) => {
      server.on('upgrade', (_req, socket: Socket) => {
        handshakes.push(name);
        socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      });
    };
    const blue = await startUpstream(undefined, acceptUpgrades('blue'));
    const green = await startUpstream(undefined, acceptUpgrades('green'));
    const proxy = await startProxy(previewPlan(1, blue, green, [anyPort(2)]));
    const socket = connect({ host: LOOPBACK, port: proxy.proxy.previewAddress('web', 2)!.port });
    try {
      await once(socket, 'connect');
      socket.write(
        'GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      let response = '';
      socket.on('data', (data: Buffer) => (response += data.toString()));
      await waitFor(() => response.includes('\r\n\r\n'), 'the handshake answer');
      assert.match(response, /^HTTP\/1\.1 101 /);
      assert.deepEqual(handshakes, ['green']);
    } finally {
      socket.destroy();
      await proxy.close();
      await blue.close();
      await green.close();
    }
  });

  test('a preview whose revision has no endpoint answers 503 with a short body', async () => {
    const blue = await namedUpstream('blue');
    const proxy = await startProxy({ ...makePlan(1, [group(1, 1, [blue.endpoint('blue')]), group(2, 0, [])]), previews: [anyPort(2)] });
    try {
      const res = await send(proxy.proxy.previewAddress('web', 2)!.port, { method: 'POST', body: 'hello' });
      assert.equal(res.status, 503);
      assert.equal(res.text, 'no healthy upstream for revision 2 of app "web"\n');
      assert.equal(blue.count(), 0);
    } finally {
      await proxy.close();
      await blue.close();
    }
  });

  test('a plan without the preview closes its listener, after its in-flight request completes', async () => {
    const blue = await namedUpstream('blue');
    const slow = heldResponses();
    const green = await startUpstream(slow.handler);
    const proxy = await startProxy(previewPlan(1, blue, green, [anyPort(2)]));
    try {
      const previewPort = proxy.proxy.previewAddress('web', 2)!.port;
      const inflight = send(previewPort);
      await waitFor(() => green.count() === 1, 'the preview request to reach green');
      await proxy.proxy.applyPlan(previewPlan(2, blue, green, []));
      assert.equal(proxy.proxy.previewAddress('web', 2), undefined);
      assert.equal(await isAccepting(previewPort), false, 'connections to the removed preview are refused');
      slow.release();
      assert.equal((await inflight).status, 200);
      assert.equal((await send(proxy.port)).text, 'blue');
    } finally {
      slow.release();
      await proxy.close();
      await blue.close();
      await green.close();
    }
  });

  test('a preview moved to another port listens there and no longer on the old one', async () => {
    const blue = await namedUpstream('blue');
    const green = await namedUpstream('green');
    const firstPort = await refusedPort();
    const proxy = await startProxy(previewPlan(1, blue, green, [{ listen: { host: LOOPBACK, port: firstPort }, revision: 2 }]));
    try {
      assert.equal((await send(firstPort)).text, 'green');
      const secondPort = await refusedPort();
      await proxy.proxy.applyPlan(previewPlan(2, blue, green, [{ listen: { host: LOOPBACK, port: secondPort }, revision: 2 }]));
      assert.equal(proxy.proxy.previewAddress('web', 2)?.port, secondPort);
      assert.equal((await send(secondPort)).text, 'green');
      assert.equal(await isAccepting(firstPort), false);

      // The same address moved to another revision keeps its listener and switches at once.
      await proxy.proxy.applyPlan(previewPlan(3, blue, green, [{ listen: { host: LOOPBACK, port: secondPort }, revision: 1 }]));
      assert.equal(proxy.proxy.previewAddress('web', 1)?.port, secondPort);
      assert.equal((await send(secondPort)).text, 'blue');
    } finally {
      await proxy.close();
      await blue.close();
      await green.close();
    }
  });

  test('the main listener and a preview may swap addresses in one plan', async () => {
    const blue = await namedUpstream('blue');
    const green = await namedUpstream('green');
    const [a, b] = [await refusedPort(), await refusedPort()];
    const proxy = new ProxyServer();
    try {
      await proxy.applyPlan({ ...previewPlan(1, blue, green, [{ listen: { host: LOOPBACK, port: b }, revision: 2 }]), listen: { host: LOOPBACK, port: a } });
      await proxy.applyPlan({ ...previewPlan(2, blue, green, [{ listen: { host: LOOPBACK, port: a }, revision: 2 }]), listen: { host: LOOPBACK, port: b } });
      assert.equal(proxy.address('web')?.port, b);
      assert.equal((await send(b)).text, 'blue');
      assert.equal((await send(a)).text, 'green');
    } finally {
      await proxy.close();
      await blue.close();
      await green.close();
    }
  });

  test('removeApp and close stop the preview listeners too', async () => {
    const blue = await namedUpstream('blue');
    const green = await namedUpstream('green');
    const proxy = new ProxyServer();
    try {
      await proxy.applyPlan(previewPlan(1, blue, green, [anyPort(2)]));
      const first = proxy.previewAddress('web', 2)!.port;
      await proxy.removeApp('web');
      assert.equal(await isAccepting(first), false);
      assert.equal(proxy.previewAddress('web', 2), undefined);

      await proxy.applyPlan(previewPlan(2, blue, green, [anyPort(2)]));
      const second = proxy.previewAddress('web', 2)!.port;
      assert.equal((await send(second)).text, 'green');
      await proxy.close();
      assert.equal(await isAccepting(second), false);
    } finally {
      await proxy.close();
      await blue.close();
      await green.close();
    }
  });

  test('a preview address already used by another app, or twice in a plan, is a listen conflict', async () => {
    const blue = await namedUpstream('blue');
    const green = await namedUpstream('green');
    const proxy = new ProxyServer();
    try {
      const [taken, main] = [await refusedPort(), await refusedPort()];
      await proxy.applyPlan({ ...previewPlan(1, blue, green, [{ listen: { host: LOOPBACK, port: taken }, revision: 2 }]), app: 'one' });
      const other = { ...makePlan(1, [group(1, 1, [blue.endpoint('blue')])], { host: LOOPBACK, port: main }, 'two') };
      await assert.rejects(proxy.applyPlan({ ...other, listen: { host: LOOPBACK, port: taken } }), { code: 'PROXY_LISTEN_CONFLICT' });
      await assert.rejects(proxy.applyPlan({ ...other, previews: [{ listen: { host: LOOPBACK, port: taken }, revision: 1 }] }), {
        code: 'PROXY_LISTEN_CONFLICT',
      });
      await assert.rejects(proxy.applyPlan({ ...other, previews: [{ listen: { host: LOOPBACK, port: main }, revision: 1 }] }), {
        code: 'PROXY_LISTEN_CONFLICT',
      });
      assert.equal(proxy.address('two'), undefined, 'a refused plan leaves nothing behind');
      assert.equal((await send(taken)).text, 'green', 'the first app keeps its preview');
    } finally {
      await proxy.close();
      await blue.close();
      await green.close();
    }
  });

  test('a preview that cannot listen rejects the plan, which then changes nothing', async () => {
    const blue = await namedUpstream('blue');
    const green = await namedUpstream('green');
    const blocker = await startUpstream();
    const proxy = await startProxy(previewPlan(1, blue, green, [anyPort(2)]));
    try {
      const previewPort = proxy.proxy.previewAddress('web', 2)!.port;
      const freePort = await refusedPort();
      const failing = previewPlan(2, blue, green, [anyPort(2), { listen: { host: LOOPBACK, port: blocker.port }, revision: 1 }]);
      await assert.rejects(proxy.proxy.applyPlan({ ...failing, listen: { host: LOOPBACK, port: freePort } }), { code: 'PROXY_LISTEN_FAILED' });
      assert.equal(await isAccepting(freePort), false, 'the listener opened for the failed plan was closed again');
      assert.equal(proxy.proxy.address('web')?.port, proxy.port);
      assert.equal((await send(previewPort)).text, 'green');
      assert.equal((await send(proxy.port)).text, 'blue');
    } finally {
      await proxy.close();
      await blocker.close();
      await blue.close();
      await green.close();
    }
  });
});
