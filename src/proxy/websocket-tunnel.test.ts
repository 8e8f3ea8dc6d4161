import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { closeSocket, group, LOOPBACK, makePlan, refusedPort, startProxy, startUpstream, waitFor } from './proxy-fixtures.js';
import type { TestUpstream } from './proxy-fixtures.js';

/** An upstream that accepts WebSocket handshakes with a bare 101 and then echoes every byte. */
async function startEchoUpstream(): Promise<TestUpstream & { handshakes: IncomingHttpHeaders[] }> {
  const handshakes: IncomingHttpHeaders[] = [];
  const upstream = await startUpstream(undefined, (server: Server) => {
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      handshakes.push(req.headers);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.pipe(socket);
    });
  });
  return Object.assign(upstream, { handshakes });
}

/** Opens a WebSocket-style tunnel through the proxy with node's http client. */
async function openWebSocket(port: number): Promise<{ res: IncomingMessage; socket: Socket }> {
  const req = request({
    host: LOOPBACK,
    port,
    path: '/chat',
    agent: false,
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      'x-forwarded-for': '6.6.6.6',
    },
  });
  req.end();
  const [res, socket] = (await once(req, 'upgrade')) as [IncomingMessage, Socket];
  return { res, socket };
}

/** Reads from the socket until `expected.length` characters arrived (keeps the socket open). */
function readUntil(socket: Socket, expected: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (data: Buffer): void => {
      text += data.toString();
      if (text.length < expected.length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      resolve(text);
    };
    const onClose = (): void => reject(new Error(`the tunnel closed after ${JSON.stringify(text)}`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

describe('WebSocket tunnels', () => {
  test('a WebSocket handshake is tunnelled both ways and counts as in flight until it closes', async () => {
    const upstream = await startEchoUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('ws')])]));
    try {
      const { res, socket } = await openWebSocket(proxy.port);
      assert.equal(res.statusCode, 101);
      assert.equal(upstream.handshakes.length, 1);
      const seen = upstream.handshakes[0]!;
      assert.equal(seen.upgrade, 'websocket');
      assert.equal(seen['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
      assert.equal(seen['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen['x-forwarded-proto'], 'http');
      assert.deepEqual(proxy.proxy.inflight(), { ws: 1 });

      socket.write('ping 1');
      assert.equal(await readUntil(socket, 'ping 1'), 'ping 1');
      socket.write('ping 2');
      assert.equal(await readUntil(socket, 'ping 2'), 'ping 2');

      await closeSocket(socket);
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'the closed tunnel to leave the in-flight count');
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('an h2c upgrade is refused with 400 and the connection is closed without reaching the upstream', async () => {
    const upstream = await startEchoUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('ws')])]));
    const socket = connect({ host: LOOPBACK, port: proxy.port });
    try {
      await once(socket, 'connect');
      socket.write(
        'GET / HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade, HTTP2-Settings\r\n' + 'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
      );
      let response = '';
      socket.on('data', (data: Buffer) => (response += data.toString()));
      await once(socket, 'close');
      assert.match(response, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(response, /\r\nconnection: close\r\n/);
      assert.equal(upstream.count(), 0);
      assert.equal(upstream.handshakes.length, 0);
    } finally {
      socket.destroy();
      await proxy.close();
      await upstream.close();
    }
  });

  test('a WebSocket handshake to a refused endpoint is retried on another one', async () => {
    const upstream = await startEchoUpstream();
    const dead = { id: 'dead', host: LOOPBACK, port: await refusedPort() };
    const proxy = await startProxy(makePlan(1, [group(1, 1, [dead, upstream.endpoint('ws')])]));
    try {
      for (let i = 0; i < 2; i++) {
        const { res, socket } = await openWebSocket(proxy.port);
        assert.equal(res.statusCode, 101);
        await closeSocket(socket);
      }
      assert.equal(upstream.handshakes.length, 2);
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'the tunnels to leave the in-flight count');
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('a handshake the upstream refuses is passed back to the client and the connection closed', async () => {
    const upstream = await startUpstream(undefined, (server) => {
      server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
        socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 6\r\n\r\nno way');
      });
    });
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('ws')])]));
    try {
      const req = request({
        host: LOOPBACK,
        port: proxy.port,
        agent: false,
        headers: { connection: 'Upgrade', upgrade: 'websocket' },
      });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      let body = '';
      for await (const data of res) body += String(data);
      assert.equal(res.statusCode, 403);
      assert.equal(body, 'no way');
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'the refused handshake to leave the in-flight count');
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('closing the proxy cuts open tunnels at once', async () => {
    const upstream = await startEchoUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('ws')])]));
    try {
      const { socket } = await openWebSocket(proxy.port);
      const closed = once(socket, 'close');
      await proxy.proxy.close();
      await closed;
      assert.deepEqual(proxy.proxy.inflight(), {});
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
