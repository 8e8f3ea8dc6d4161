import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { group, LOOPBACK, makePlan, send, startProxy, startUpstream, waitFor } from './proxy-fixtures.js';

/** Opens a raw connection, writes `text`, and collects what comes back until the proxy closes. */
async function rawConnection(port: number, text: string): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> {
  const socket = connect({ host: LOOPBACK, port });
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = once(socket, 'close');
  socket.write(text);
  return { socket, received: () => received, closed };
}

describe('proxy limits', () => {
  test('X-Forwarded-For from an untrusted peer is replaced by the peer address', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    try {
      await send(proxy.port, { headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' } });
      assert.equal(upstream.received[0]!.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(upstream.received[0]!.headers['x-forwarded-proto'], 'http');
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('X-Forwarded-For from a trusted proxy is kept, with the peer appended', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]), { trustedProxies: ['127.0.0.0/8'] });
    try {
      await send(proxy.port, { headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' } });
      assert.equal(upstream.received[0]!.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
      assert.equal(upstream.received[0]!.headers['x-forwarded-proto'], 'https');
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('a request body slower than the minimum rate is cut with 408 and never reaches the upstream', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]), { minBodyBytesPerSecond: 10_000, bodyRateGraceMs: 200 });
    try {
      const client = await rawConnection(proxy.port, 'POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 50000\r\n\r\nxxxx');
      await client.closed;
      assert.match(client.received(), /^HTTP\/1\.1 408 /);
      assert.equal(upstream.count(), 0);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('a client that does not finish its request head in time gets 408 and is closed', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]), {
      clientHeadersTimeoutMs: 200,
      clientTimeoutCheckIntervalMs: 50,
    });
    try {
      const client = await rawConnection(proxy.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ');
      await client.closed;
      assert.match(client.received(), /^HTTP\/1\.1 408 /);
      assert.equal(upstream.count(), 0);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('connections beyond maxConnections are closed at once while the others are served', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]), { maxConnections: 2 });
    const open: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) open.push((await rawConnection(proxy.port, '')).socket);
      await waitFor(() => proxy.proxy.address('web') !== undefined, 'listening');
      const third = await rawConnection(proxy.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await third.closed;
      assert.equal(third.received(), '');
      // Once a connection goes, a new one is served (the proxy may take a moment to count it gone).
      open.pop()!.destroy();
      let status = 0;
      for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
        status = await send(proxy.port, { agent: false }).then(
          (res) => res.status,
          () => 0,
        );
      }
      assert.equal(status, 200);
    } finally {
      for (const socket of open) socket.destroy();
      await proxy.close();
      await upstream.close();
    }
  });
});
