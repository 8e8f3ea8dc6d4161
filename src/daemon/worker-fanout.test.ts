import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { describe, it } from 'node:test';
import type { MeasurementsMoved, WorkerCommand } from '../router/builtin/worker-messages.js';
import { WorkerFanout } from './worker-fanout.js';

/** A connected worker that records what it is sent. */
function fakeWorker(): Worker & { sent: WorkerCommand[] } {
  const sent: WorkerCommand[] = [];
  return { sent, isConnected: () => true, send: (message: WorkerCommand) => sent.push(message) } as unknown as Worker & { sent: WorkerCommand[] };
}

describe('WorkerFanout', () => {
  it('passes on what a worker says unasked (its counts moved) without settling any request', async () => {
    const moved: MeasurementsMoved[] = [];
    const fanout = new WorkerFanout((notice) => moved.push(notice));
    const worker = fakeWorker();
    const gathered = fanout.send([worker], { type: 'measurements' });
    const [request] = worker.sent;
    assert.equal(request?.type, 'measurements', 'precondition: the worker was asked');
    fanout.onReply(worker, { type: 'measurementsMoved' });
    assert.deepEqual(moved, [{ type: 'measurementsMoved' }]);
    fanout.onReply(worker, { type: 'reply', requestId: (request as { requestId: number }).requestId });
    const { replies, missing } = await gathered;
    assert.equal(missing, 0);
    assert.equal(replies.length, 1, 'the request settled on the reply, not on the notice');
  });
});
