import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { LazyPool } from './lazy-pool.js';

/** Sends one GET through `pool`; resolves with the status, or rejects with undici's error. */
function get(pool: LazyPool): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const handler = {
      onConnect: () => {},
      onHeaders: (statusCode: number) => {
        status = statusCode;
        return true;
      },
      onData: () => true,
      onComplete: () => resolve(status),
      onError: (error: Error) => reject(error),
    } as unknown as Dispatcher.DispatchHandler;
    pool.dispatch({ method: 'GET', path: '/' }, handler);
  });
}

describe('LazyPool', () => {
  it('makes its undici pool at the first request, not before', async (t) => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const pool = new LazyPool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: null });
    assert.equal(pool.isMade, false);
    assert.equal(await get(pool), 200);
    assert.equal(pool.isMade, true);
    await pool.close();
  });

  it('closes at once when never used, and a request sent after the close fails as on a closed pool', async () => {
    const pool = new LazyPool('http://127.0.0.1:9', {});
    await pool.close();
    assert.equal(pool.isMade, false);
    await assert.rejects(get(pool), (error: Error & { code?: string }) => error.code === 'UND_ERR_CLOSED' || error.code === 'UND_ERR_DESTROYED');
  });
});
