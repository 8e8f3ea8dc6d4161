import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { group, heldResponses, LOOPBACK, makePlan, refusedPort, send, startProxy, startUpstream, waitFor } from './proxy-fixtures.js';

describe('forwarding and retries', () => {
  test('502 with a short body when every endpoint refuses the connection', async () => {
    const ports = [await refusedPort(), await refusedPort()];
    const proxy = await startProxy(
      makePlan(1, [
        group(
          1,
          1,
          ports.map((port, i) => ({ id: `dead-${i}`, host: LOOPBACK, port })),
        ),
      ]),
    );
    try {
      const res = await send(proxy.port);
      assert.equal(res.status, 502);
      assert.equal(res.text, 'upstream failed\n');
      assert.equal(res.headers.connection, 'close');
      assert.deepEqual(proxy.proxy.inflight(), {});
    } finally {
      await proxy.close();
    }
  });

  test('a GET and a POST to a refused endpoint are retried on the other endpoint and succeed once', async () => {
    const live = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.end(`${req.method} ${Buffer.concat(chunks).toString()}`));
    });
    const dead = { id: 'dead', host: LOOPBACK, port: await refusedPort() };
    const proxy = await startProxy(makePlan(1, [group(1, 1, [dead, live.endpoint('live')])]));
    try {
      // Ties rotate, so across two requests of each kind one is first sent to the dead endpoint.
      for (let i = 0; i < 2; i++) {
        const get = await send(proxy.port, { agent: proxy.agent });
        assert.equal(get.status, 200);
        assert.equal(get.text, 'GET ');
        const post = await send(proxy.port, { method: 'POST', body: `order-${i}`, agent: proxy.agent });
        assert.equal(post.status, 200);
        assert.equal(post.text, `POST order-${i}`);
      }
      assert.equal(live.count('GET'), 2);
      assert.equal(live.count('POST'), 2);
      assert.deepEqual(proxy.proxy.inflight(), {});
    } finally {
      await proxy.close();
      await live.close();
    }
  });

  test('a streamed POST larger than the retry buffer is still retried when the connection was refused', async () => {
    let receivedBytes = 0;
    const live = await startUpstream((req, res) => {
      req.on('data', (chunk: Buffer) => (receivedBytes += chunk.length));
      req.on('end', () => res.end('stored'));
    });
    const dead = { id: 'dead', host: LOOPBACK, port: await refusedPort() };
    const proxy = await startProxy(makePlan(1, [group(1, 1, [dead, live.endpoint('live')])]), { retryBodyBufferBytes: 1_024 });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await send(proxy.port, { method: 'POST', body: Buffer.alloc(256 * 1024, 'b') });
        assert.equal(res.status, 200);
        assert.equal(res.text, 'stored');
      }
      assert.equal(live.count('POST'), 2);
      assert.equal(receivedBytes, 2 * 256 * 1024);
    } finally {
      await proxy.close();
      await live.close();
    }
  });

  test('a POST the upstream received and then reset is not retried', async () => {
    const reset = (req: IncomingMessage) => req.socket.destroy();
    const a = await startUpstream(reset);
    const b = await startUpstream(reset);
    const proxy = await startProxy(makePlan(1, [group(1, 1, [a.endpoint('a'), b.endpoint('b')])]));
    try {
      const res = await send(proxy.port, { method: 'POST', body: 'pay 10 EUR' });
      assert.equal(res.status, 502);
      assert.equal(a.count() + b.count(), 1, 'the POST reached exactly one upstream exactly once');
    } finally {
      await proxy.close();
      await a.close();
      await b.close();
    }
  });

  test('a GET the upstream reset before answering is retried on another endpoint', async () => {
    const broken = await startUpstream((req) => req.socket.destroy());
    const healthy = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [broken.endpoint('broken'), healthy.endpoint('healthy')])]));
    try {
      for (let i = 0; i < 2; i++) assert.equal((await send(proxy.port)).status, 200);
      assert.equal(broken.count(), 1);
      assert.equal(healthy.count(), 2);
    } finally {
      await proxy.close();
      await broken.close();
      await healthy.close();
    }
  });

  test('504 when the upstream does not send its response head in time', async () => {
    const slow = heldResponses();
    const upstream = await startUpstream(slow.handler);
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]), { upstreamHeadersTimeoutMs: 50 });
    try {
      const res = await send(proxy.port);
      assert.equal(res.status, 504);
      assert.equal(res.text, 'upstream timed out\n');
      assert.equal(upstream.count(), 1, 'a timed-out request is not retried');
      assert.deepEqual(proxy.proxy.inflight(), {});
    } finally {
      slow.release();
      await proxy.close();
      await upstream.close();
    }
  });

  test('an upstream failing after the response started cuts the client connection instead of ending the body', async () => {
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part of it', () => setImmediate(() => req.socket.destroy()));
    });
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    try {
      await assert.rejects(send(proxy.port));
      assert.equal(upstream.count(), 1);
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'the failed request to leave the in-flight count');
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('a client that goes away aborts the upstream request and releases its in-flight count', async () => {
    const slow = heldResponses();
    const upstream = await startUpstream(slow.handler);
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    try {
      const controller = new AbortController();
      const response = send(proxy.port, { signal: controller.signal });
      const isAborted = assert.rejects(response);
      await waitFor(() => upstream.count() === 1, 'the request to reach the upstream');
      assert.deepEqual(proxy.proxy.inflight(), { a: 1 });
      controller.abort();
      await isAborted;
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'the aborted request to leave the in-flight count');
      await waitFor(() => slow.held[0]?.destroyed === true, 'the upstream request to be aborted');
    } finally {
      slow.release();
      await proxy.close();
      await upstream.close();
    }
  });

  test('keep-alive race: 32 keep-alive clients against an upstream with a 1 s keep-alive timeout lose nothing and duplicate no POST', async () => {
    let postsReceived = 0;
    const upstream = await startUpstream(
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          if (req.method === 'POST') postsReceived++;
          res.end(`${req.method}:${Buffer.concat(chunks).length}`);
        });
      },
      (server) => {
        server.keepAliveTimeout = 1_000;
      },
    );
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    // Pauses around the upstream's 1 s idle limit (and the proxy's 0.5 s after the hint margin).
    const pausesMs = [1_000, 980, 1_020, 450, 0, 1_050, 520, 990];
    let postsSent = 0;
    const failures: string[] = [];
    const body = Buffer.alloc(2_048, 'x');
    const client = async (index: number): Promise<void> => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let round = 0; round < 4; round++) {
          const isPost = (index + round) % 2 === 0;
          if (isPost) postsSent++;
          try {
            const res = await send(proxy.port, { agent, method: isPost ? 'POST' : 'GET', body: isPost ? body : undefined });
            if (res.status !== 200 || res.text !== (isPost ? 'POST:2048' : 'GET:0')) failures.push(`${res.status} ${res.text}`);
          } catch (error) {
            failures.push(String(error));
          }
          if (round < 3) await delay(pausesMs[(index + round) % pausesMs.length]! + (index % 4) * 10);
        }
      } finally {
        agent.destroy();
      }
    };
    try {
      await Promise.all(Array.from({ length: 32 }, (_, index) => client(index)));
      assert.deepEqual(failures, []);
      assert.equal(postsReceived, postsSent);
      assert.equal(upstream.count('POST'), postsSent);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
