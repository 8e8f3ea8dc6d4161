import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadClient, LoadTimeLimitError } from './load-client.js';

async function withServer(run: (origin: string) => Promise<void>): Promise<void> {
  const server = http.createServer((_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('the load client time limit', () => {
  it('fails stop() when the limit stopped the load first, with the figures so far', async () => {
    await withServer(async (origin) => {
      const load = new LoadClient({ origin, clients: 2, pauseMs: 5, maxDurationMs: 150 });
      load.start();
      await sleep(400);
      assert.equal(load.snapshot().stoppedByTimeLimit, true);
      const error = await load.stop().then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(error instanceof LoadTimeLimitError, `stop() rejected with ${String(error)}`);
      assert.ok(error.report.requests > 0, 'the load ran before the limit');
      assert.match(error.message, /time limit \(150 ms\)/);
    });
  });

  it("reports the limit without failing when asked to ('report')", async () => {
    await withServer(async (origin) => {
      const load = new LoadClient({ origin, clients: 2, pauseMs: 5, maxDurationMs: 150, onTimeLimit: 'report' });
      load.start();
      await sleep(400);
      const report = await load.stop();
      assert.equal(report.stoppedByTimeLimit, true);
      assert.ok(report.requests > 0);
    });
  });

  it('stops normally before the limit', async () => {
    await withServer(async (origin) => {
      const load = new LoadClient({ origin, clients: 2, pauseMs: 5, maxDurationMs: 60_000 });
      load.start();
      await sleep(100);
      const report = await load.stop();
      assert.equal(report.stoppedByTimeLimit, false);
      assert.ok(report.requests > 0);
      assert.equal(report.failed, 0);
    });
  });
});
