import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { group, heldResponses, isAccepting, LOOPBACK, makePlan, refusedPort, send, startProxy, startUpstream, waitFor } from './proxy-fixtures.js';
import { ProxyServer } from './proxy-server.js';

describe('ProxyServer', () => {
  test('traffic is split 1:3 between two revision groups weighted 1 and 3', async () => {
    const blue = await startUpstream();
    const green = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [blue.endpoint('blue')]), group(2, 3, [green.endpoint('green')])]));
    try {
      for (let i = 0; i < 400; i++) {
        const res = await send(proxy.port, { agent: proxy.agent });
        assert.equal(res.status, 200);
      }
      assert.equal(blue.count(), 100);
      assert.equal(green.count(), 300);
    } finally {
      await proxy.close();
      await blue.close();
      await green.close();
    }
  });

  test('inside a group a slow endpoint gets fewer requests than a fast one', async () => {
    const slow = heldResponses();
    const a = await startUpstream(slow.handler);
    const b = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [a.endpoint('a'), b.endpoint('b')])]));
    const pending: Promise<unknown>[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const heldBefore = a.count();
        const response = send(proxy.port, { agent: proxy.agent });
        await waitFor(() => a.count() + b.count() === i + 1, `request ${i + 1} to reach an upstream`);
        // Held by the slow endpoint: keep it pending. Served by the fast one: wait for the
        // response so that endpoint is back to 0 outstanding before the next request.
        if (a.count() > heldBefore) pending.push(response);
        else await response;
      }
      assert.equal(a.count(), 1, 'the slow endpoint holds one request, so least-outstanding avoids it');
      assert.equal(b.count(), 19);
      assert.deepEqual(proxy.proxy.inflight(), { a: 1 });
      slow.release();
      await Promise.all(pending);
    } finally {
      slow.release();
      await proxy.close();
      await a.close();
      await b.close();
    }
  });

  test('a new plan moves new requests while a slow request on the old endpoint completes and stays counted', async () => {
    const slow = heldResponses();
    const old = await startUpstream(slow.handler);
    const next = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [old.endpoint('old')])]));
    try {
      const inflightRequest = send(proxy.port);
      await waitFor(() => old.count() === 1, 'the slow request to reach the old endpoint');
      assert.deepEqual(proxy.proxy.inflight(), { old: 1 });

      await proxy.proxy.applyPlan(makePlan(2, [group(2, 1, [next.endpoint('next')])]));
      for (let i = 0; i < 5; i++) assert.equal((await send(proxy.port, { agent: proxy.agent })).status, 200);
      assert.equal(next.count(), 5);
      assert.equal(old.count(), 1);
      assert.deepEqual(proxy.proxy.inflight(), { old: 1 }, 'the old endpoint left the plan but still serves one request');

      slow.release();
      const res = await inflightRequest;
      assert.equal(res.status, 200);
      assert.equal(res.text, 'released');
      await waitFor(() => proxy.proxy.inflight().old === undefined, 'the old endpoint to drain');
      await waitFor(() => old.openConnections() === 0, 'the pool of the old endpoint to close its connections');
    } finally {
      slow.release();
      await proxy.close();
      await old.close();
      await next.close();
    }
  });

  test('a client that does not finish its request head in time gets 408 and is disconnected', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]), {
      clientHeadersTimeoutMs: 100,
      clientTimeoutCheckIntervalMs: 20,
    });
    const socket = connect({ host: LOOPBACK, port: proxy.port });
    try {
      await once(socket, 'connect');
      socket.write('GET / HTTP/1.1\r\nHost: slow.example\r\nX-Drip: ');
      let response = '';
      socket.on('data', (data: Buffer) => (response += data.toString()));
      await once(socket, 'close');
      assert.match(response, /^HTTP\/1\.1 408 /);
      assert.equal(upstream.count(), 0);
    } finally {
      socket.destroy();
      await proxy.close();
      await upstream.close();
    }
  });

  test('a plan older than the current one is ignored', async () => {
    const a = await startUpstream();
    const b = await startUpstream();
    const proxy = await startProxy(makePlan(5, [group(1, 1, [a.endpoint('a')])]));
    try {
      await proxy.proxy.applyPlan(makePlan(4, [group(1, 1, [b.endpoint('b')])]));
      await proxy.proxy.applyPlan(makePlan(5, [group(1, 1, [b.endpoint('b')])]));
      assert.equal((await send(proxy.port)).status, 200);
      assert.equal(a.count(), 1);
      assert.equal(b.count(), 0);
    } finally {
      await proxy.close();
      await a.close();
      await b.close();
    }
  });

  test('an app whose plan has no endpoint answers 503 with a short body and closes the connection', async () => {
    const proxy = await startProxy(makePlan(1, []));
    try {
      const res = await send(proxy.port, { method: 'POST', body: 'hello' });
      assert.equal(res.status, 503);
      assert.equal(res.text, 'no healthy upstream for app "web"\n');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers.connection, 'close');
    } finally {
      await proxy.close();
    }
  });

  test('a changed listen address opens the new one, then closes the old one', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    try {
      const newPort = await refusedPort();
      await proxy.proxy.applyPlan(makePlan(2, [group(1, 1, [upstream.endpoint('a')])], { host: LOOPBACK, port: newPort }));
      assert.equal(proxy.proxy.address('web')?.port, newPort);
      assert.equal((await send(newPort)).status, 200);
      assert.equal(await isAccepting(proxy.port), false, 'the old address no longer accepts connections');
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('two apps cannot share a listen address', async () => {
    const proxy = new ProxyServer();
    try {
      const port = await refusedPort();
      await proxy.applyPlan(makePlan(1, [], { host: LOOPBACK, port }, 'one'));
      await assert.rejects(proxy.applyPlan(makePlan(1, [], { host: LOOPBACK, port }, 'two')), { code: 'PROXY_LISTEN_CONFLICT' });
    } finally {
      await proxy.close();
    }
  });

  test('a listen failure rejects applyPlan with a coded error and leaves no app behind', async () => {
    const blocker = await startUpstream();
    const proxy = new ProxyServer();
    try {
      await assert.rejects(proxy.applyPlan(makePlan(1, [], { host: LOOPBACK, port: blocker.port })), { code: 'PROXY_LISTEN_FAILED' });
      assert.equal(proxy.address('web'), undefined);
    } finally {
      await proxy.close();
      await blocker.close();
    }
  });

  test('removeApp stops listening and lets the in-flight request finish', async () => {
    const slow = heldResponses();
    const upstream = await startUpstream(slow.handler);
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    try {
      const response = send(proxy.port);
      await waitFor(() => upstream.count() === 1, 'the request to reach the upstream');
      const removed = proxy.proxy.removeApp('web');
      await waitFor(() => proxy.proxy.address('web') === undefined, 'the app to be forgotten');
      assert.equal(await isAccepting(proxy.port), false);
      slow.release();
      assert.equal((await response).status, 200);
      await removed;
      assert.deepEqual(proxy.proxy.inflight(), {});
    } finally {
      slow.release();
      await proxy.close();
      await upstream.close();
    }
  });

  test('close() stops accepting, finishes the in-flight request, then resolves', async () => {
    const slow = heldResponses();
    const upstream = await startUpstream(slow.handler);
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    try {
      const response = send(proxy.port, { agent: proxy.agent });
      await waitFor(() => upstream.count() === 1, 'the request to reach the upstream');
      let isClosed = false;
      const closed = proxy.proxy.close().then(() => {
        isClosed = true;
      });
      assert.equal(await isAccepting(proxy.port), false);
      assert.equal(isClosed, false, 'close waits for the in-flight request');
      slow.release();
      const res = await response;
      assert.equal(res.status, 200);
      assert.equal(res.text, 'released');
      assert.equal(res.headers.connection, 'close');
      await closed;
      assert.deepEqual(proxy.proxy.inflight(), {});
      await assert.rejects(proxy.proxy.applyPlan(makePlan(9, [])), { code: 'PROXY_CLOSED' });
    } finally {
      slow.release();
      await proxy.close();
      await upstream.close();
    }
  });

  test('close() destroys requests still running after closeTimeoutMs', async () => {
    const slow = heldResponses();
    const upstream = await startUpstream(slow.handler);
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]), { closeTimeoutMs: 50 });
    try {
      const response = send(proxy.port);
      await waitFor(() => upstream.count() === 1, 'the request to reach the upstream');
      const isCut = assert.rejects(response, { code: 'ECONNRESET' });
      await proxy.proxy.close();
      await isCut;
      await waitFor(() => Object.keys(proxy.proxy.inflight()).length === 0, 'the aborted request to leave the in-flight count');
    } finally {
      slow.release();
      await proxy.close();
      await upstream.close();
    }
  });
});
