/**
 * The fast lane through a real ProxyServer: exchanges over raw sockets on both sides, the
 * hand-over to Node's HTTP server mid-connection, pipelining, every response framing, and the
 * failures the strict lane also handles.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { describe, test } from 'node:test';
import { group, LOOPBACK, makePlan, startProxy, startUpstream, waitFor } from '../../../test/helpers/proxy-fixtures.js';
import type { TestProxy } from '../../../test/helpers/proxy-fixtures.js';

/** A client on a raw socket that collects everything the proxy sends. */
async function rawClient(port: number): Promise<{ socket: Socket; text: () => string; isClosed: () => boolean }> {
  const socket = connect({ host: LOOPBACK, port });
  await once(socket, 'connect');
  let text = '';
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('close', () => (isClosed = true));
  socket.on('error', () => undefined);
  return { socket, text: () => text, isClosed: () => isClosed };
}

/** An upstream on a raw socket answering each request head with `answer(head)`, written in pieces when asked. */
async function rawUpstream(
  answer: (head: string, index: number) => string[] | 'close',
): Promise<{ server: Server; port: number; heads: string[]; connections: () => number }> {
  const heads: string[] = [];
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        heads.push(head);
        const pieces = answer(head, heads.length - 1);
        if (pieces === 'close') {
          socket.destroy();
          return;
        }
        void (async () => {
          for (const piece of pieces) {
            if (piece === '<close>') socket.end();
            else socket.write(piece, 'latin1');
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        })();
      }
    });
  });
  server.listen({ host: LOOPBACK, port: 0 });
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, heads, connections: () => connections };
}

/** The body of the one response `socket` receives, once `bodyBytes` of it arrived. */
async function bodyOf(socket: Socket, bodyBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of socket as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    received += chunk.length;
    if (received < bodyBytes) continue;
    const all = Buffer.concat(chunks);
    const headEnd = all.indexOf('\r\n\r\n');
    if (headEnd !== -1 && all.length - headEnd - 4 >= bodyBytes) return all.subarray(headEnd + 4);
  }
  throw new Error(`the connection ended after ${received} bytes`);
}

async function withProxy(port: number, run: (proxy: TestProxy) => Promise<void>): Promise<void> {
  const proxy = await startProxy(makePlan(1, [group(1, 100, [{ id: 'up', host: LOOPBACK, port }])]));
  try {
    await run(proxy);
  } finally {
    await proxy.close();
  }
}

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: app.test\r\n${extra}\r\n`;

describe('fast lane', () => {
  test('one connection: plain GETs, a chunked POST handed to the strict lane, and GETs again, all answered in order', async () => {
    const upstream = await startUpstream((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => res.end(`${req.method} ${req.url} [${body}]`));
    });
    await withProxy(upstream.port, async (proxy) => {
      const client = await rawClient(proxy.port);
      client.socket.write(get('/one'));
      await waitFor(() => client.text().includes('GET /one []'), 'the first answer');
      client.socket.write('POST /two HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' + get('/three'));
      await waitFor(() => client.text().includes('GET /three []'), 'the third answer');
      client.socket.write(get('/four'));
      await waitFor(() => client.text().includes('GET /four []'), 'the fourth answer');
      const order = ['GET /one []', 'POST /two [abc]', 'GET /three []', 'GET /four []'].map((body) => client.text().indexOf(body));
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        order,
      );
      assert.ok(order.every((index) => index > 0));
      assert.equal(client.isClosed(), false);
      client.socket.destroy();
    });
    await upstream.close();
  });

  test('pipelined requests in one write are answered in order, each forwarded once', async () => {
    const upstream = await startUpstream((req, res) => res.end(`<${req.url}>`));
    await withProxy(upstream.port, async (proxy) => {
      const client = await rawClient(proxy.port);
      client.socket.write(get('/a') + 'POST /b HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2\r\n\r\nhi' + get('/c'));
      await waitFor(() => client.text().includes('</c>'), 'three answers');
      const text = client.text();
      assert.ok(text.indexOf('</a>') < text.indexOf('</b>') && text.indexOf('</b>') < text.indexOf('</c>'));
      assert.equal(upstream.count(), 3);
      client.socket.destroy();
    });
    await upstream.close();
  });

  test('a chunked response arriving in pieces passes through whole, and its connection is reused', async () => {
    const body = ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhel', 'lo\r\n', '6;x=y\r\n wor', 'ld\r\n0\r\n', 'T: 1\r\n', '\r\n'];
    const upstream = await rawUpstream(() => body);
    await withProxy(upstream.port, async (proxy) => {
      const client = await rawClient(proxy.port);
      client.socket.write(get('/1'));
      await waitFor(() => client.text().endsWith('0\r\nT: 1\r\n\r\n'), 'the whole first response');
      client.socket.write(get('/2'));
      await waitFor(() => client.text().split('0\r\nT: 1\r\n\r\n').length === 3, 'the whole second response');
      assert.match(
        client.text(),
        /^HTTP\/1\.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\n/,
      );
      assert.equal(upstream.connections(), 1);
      client.socket.destroy();
    });
    upstream.server.close();
  });

  test('a response without length ends with the upstream connection, and the client connection closes after it', async () => {
    const upstream = await rawUpstream(() => ['HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n', 'streamed ', 'until close', '<close>']);
    await withProxy(upstream.port, async (proxy) => {
      const client = await rawClient(proxy.port);
      client.socket.write(get('/'));
      await waitFor(() => client.isClosed(), 'the client connection to close');
      assert.match(client.text(), /^HTTP\/1\.1 200 OK\r\nX-A: 1\r\nconnection: close\r\n\r\nstreamed until close$/);
    });
    upstream.server.close();
  });

  test('1xx heads are skipped; HEAD gets no body; both leave the connection usable', async () => {
    const upstream = await rawUpstream((head) =>
      head.startsWith('HEAD')
        ? ['HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n']
        : ['HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    );
    await withProxy(upstream.port, async (proxy) => {
      const client = await rawClient(proxy.port);
      client.socket.write(`HEAD / HTTP/1.1\r\nHost: app.test\r\n\r\n`);
      await waitFor(() => client.text().includes('content-length: 11\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n'), 'the HEAD answer');
      client.socket.write(get('/'));
      await waitFor(() => client.text().endsWith('ok'), 'the GET answer');
      assert.doesNotMatch(client.text(), /103/);
      assert.equal(client.text().match(/HTTP\/1\.1 200/g)?.length, 2);
      client.socket.destroy();
    });
    upstream.server.close();
  });

  test('a malformed upstream response is answered 502, and that upstream connection is not reused', async () => {
    const upstream = await rawUpstream((_head, index) =>
      index === 0 ? ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc'] : ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    );
    await withProxy(upstream.port, async (proxy) => {
      const first = await rawClient(proxy.port);
      first.socket.write(get('/'));
      await waitFor(() => first.isClosed(), 'the 502 to close the connection');
      assert.match(first.text(), /^HTTP\/1\.1 502 /);
      const second = await rawClient(proxy.port);
      second.socket.write(get('/'));
      await waitFor(() => second.text().endsWith('ok'), 'the next answer');
      assert.equal(upstream.connections(), 2);
      second.socket.destroy();
    });
    upstream.server.close();
  });

  test('a GET whose upstream connection drops before answering is retried; Connection: close is honoured', async () => {
    const upstream = await rawUpstream((_head, index) => (index === 0 ? 'close' : ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']));
    await withProxy(upstream.port, async (proxy) => {
      const client = await rawClient(proxy.port);
      client.socket.write(get('/', 'Connection: close\r\n'));
      await waitFor(() => client.isClosed(), 'the connection to close after the answer');
      assert.match(client.text(), /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\nok$/);
      assert.equal(upstream.heads.length, 2);
      assert.doesNotMatch(upstream.heads[1]!, /connection:/i);
    });
    upstream.server.close();
  });

  test('a client that leaves mid-response releases the in-flight count and the upstream connection', async () => {
    const upstream = await rawUpstream(() => ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial']);
    await withProxy(upstream.port, async (proxy) => {
      const client = await rawClient(proxy.port);
      client.socket.write(get('/'));
      await waitFor(() => client.text().endsWith('partial'), 'the start of the body');
      assert.deepEqual(proxy.proxy.inflight(), { up: 1 });
      client.socket.destroy();
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'the in-flight count to drop');
    });
    upstream.server.close();
  });

  test('a response held back by a slow client keeps its bytes while other responses stream through (upstream reads share one buffer)', async () => {
    const BODY_BYTES = 16 * 1024 * 1024;
    const finished = new Set<string>();
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-length': BODY_BYTES });
      res.on('finish', () => finished.add(req.url!));
      res.end(Buffer.alloc(BODY_BYTES, req.url === '/a' ? 'a' : 'b'));
    });
    await withProxy(upstream.port, async (proxy) => {
      const slow = connect({ host: LOOPBACK, port: proxy.port });
      const fast = connect({ host: LOOPBACK, port: proxy.port });
      await Promise.all([once(slow, 'connect'), once(fast, 'connect')]);
      slow.pause();
      slow.write(get('/a'));
      await waitFor(() => upstream.count() === 1, 'the slow client request upstream');
      fast.write(get('/b'));
      const fastBody = await bodyOf(fast, BODY_BYTES);
      // The precondition: the slow client's response was held in the proxy (its upstream paused) meanwhile.
      assert.equal(finished.has('/a'), false);
      slow.resume();
      const slowBody = await bodyOf(slow, BODY_BYTES);
      assert.equal(
        fastBody.every((byte) => byte === 0x62),
        true,
      );
      assert.equal(
        slowBody.every((byte) => byte === 0x61),
        true,
      );
      slow.destroy();
      fast.destroy();
    });
    await upstream.close();
  });

  test('closing the proxy lets a running exchange finish with Connection: close', async () => {
    let release: () => void = () => undefined;
    const upstream = await startUpstream((_req, res) => {
      release = () => res.end('late');
    });
    const proxy = await startProxy(makePlan(1, [group(1, 100, [upstream.endpoint('up')])]));
    const client = await rawClient(proxy.port);
    client.socket.write(get('/'));
    await waitFor(() => upstream.count() === 1, 'the request upstream');
    const closed = proxy.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await closed;
    assert.match(client.text(), /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\nlate$/);
    await upstream.close();
  });
  test('an event stream whose endpoint left the plan while its head was on the way ends cleanly (the worker does not throw)', async () => {
    // The upstream holds its answer until the test says so, then sends an event stream delimited by the close.
    let answer: (() => void) | undefined;
    const upstream = await rawUpstream(() => ['<wait>']);
    upstream.server.removeAllListeners('connection');
    upstream.server.on('connection', (socket: Socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        answer = () => socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\n', 'latin1');
      });
    });
    const other = await startUpstream((_req, res) => res.end('other'));
    const proxy = await startProxy({
      ...makePlan(1, [group(1, 100, [{ id: 'up', host: LOOPBACK, port: upstream.port }])]),
      longLived: { drain: 'close', timeoutMs: 0 },
    });
    const errors: unknown[] = [];
    const onError = (error: unknown): void => void errors.push(error);
    process.on('uncaughtException', onError);
    try {
      const client = await rawClient(proxy.port);
      client.socket.write(get('/events'));
      await waitFor(() => answer !== undefined, 'the request to reach the upstream');
      // The endpoint leaves the plan with its request in flight: it says goodbye to its long-lived connections.
      await proxy.proxy.applyPlan({
        ...makePlan(2, [group(2, 100, [{ id: 'other', host: LOOPBACK, port: other.port }])]),
        longLived: { drain: 'close', timeoutMs: 0 },
      });
      answer!();
      await waitFor(() => client.isClosed(), 'the stream to end');
      assert.match(client.text(), /^HTTP\/1\.1 200 OK\r\ncontent-type: text\/event-stream\r\nconnection: close\r\n\r\n/i);
      assert.deepEqual(errors, [], 'nothing was thrown in the worker');
    } finally {
      process.off('uncaughtException', onError);
      await proxy.close();
      await other.close();
      upstream.server.close();
    }
  });
  test('at rest the sweeper stops (no wake-ups), and the next connection starts it again', async () => {
    const upstream = await startUpstream((_req, res) => res.end('ok'));
    const proxy = await startProxy(makePlan(1, [group(1, 100, [{ id: 'up', host: LOOPBACK, port: upstream.port }])]), {
      upstreamKeepAliveTimeoutMs: 150,
      clientKeepAliveTimeoutMs: 150,
    });
    const lane = (proxy.proxy as unknown as { fastLane: { isSweeping: boolean } }).fastLane;
    try {
      assert.equal(lane.isSweeping, false, 'no connection yet: nothing to sweep');
      for (let round = 1; round <= 2; round++) {
        const client = await rawClient(proxy.port);
        client.socket.write(get('/'));
        await waitFor(() => client.text().endsWith('ok'), `answer ${round}`);
        assert.equal(lane.isSweeping, true, `round ${round}: a fast connection runs the sweeper`);
        // The idle client and upstream connections time out, then the sweeper has nothing left.
        await waitFor(() => client.isClosed() && !lane.isSweeping, `round ${round}: the sweeper to stop at rest`, 3_000);
      }
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
