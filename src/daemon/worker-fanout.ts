import type { Worker } from 'node:cluster';
import type { MeasurementsMoved, WorkerCommand, WorkerReply } from '../router/builtin/worker-messages.js';

export type WorkerRequestBody = WorkerCommand extends infer C ? (C extends { requestId: number } ? Omit<C, 'requestId'> : never) : never;
export type ReplyFromWorker = Extract<WorkerReply, { type: 'reply' }>;

export interface FanoutResult {
  replies: ReplyFromWorker[];
  /** Workers that neither answered nor died before the timeout. */
  missing: number;
}

const FANOUT_TIMEOUT_MS = 8_000;

/**
 * The callback of a `send` whose loss does not matter (a worker's notice passed on): a child that
 * died as it went out must not take the primary down with an unhandled 'error' (EPIPE).
 */
export const ignoreSendError = (): void => {};

/**
 * Sends one request to a set of proxy workers and gathers their replies. A request settles
 * when every recipient answered or died, or at the timeout; it never waits on a worker that
 * was not a recipient. What workers say unasked (their counts moved) goes to `onMoved`.
 */
export class WorkerFanout {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { waiting: Set<Worker>; replies: ReplyFromWorker[]; done: (result: FanoutResult) => void; timer: NodeJS.Timeout }
  >();

  constructor(private readonly onMoved: (notice: MeasurementsMoved) => void = () => {}) {}

  send(workers: Iterable<Worker>, body: WorkerRequestBody): Promise<FanoutResult> {
    const recipients = new Set([...workers].filter((w) => w.isConnected()));
    if (recipients.size === 0) return Promise.resolve({ replies: [], missing: 0 });
    const requestId = this.nextId++;
    return new Promise((done) => {
      // Settled after the next read of the channels (setImmediate follows the poll phase): after a
      // long turn of this process's event loop, answers already there count (see IpcRouter).
      const timer = setTimeout(() => setImmediate(() => this.settle(requestId)), FANOUT_TIMEOUT_MS);
      this.pending.set(requestId, { waiting: recipients, replies: [], done, timer });
      for (const worker of recipients) worker.send({ ...body, requestId } as WorkerCommand);
    });
  }

  onReply(worker: Worker, reply: ReplyFromWorker | MeasurementsMoved): void {
    if (reply.type === 'measurementsMoved') return this.onMoved(reply);
    const entry = this.pending.get(reply.requestId);
    if (!entry?.waiting.delete(worker)) return;
    entry.replies.push(reply);
    if (entry.waiting.size === 0) this.settle(reply.requestId);
  }

  /** A dead worker will never answer; the requests it was part of stop waiting for it. */
  onExit(worker: Worker): void {
    for (const [id, entry] of this.pending) {
      if (entry.waiting.delete(worker) && entry.waiting.size === 0) this.settle(id);
    }
  }

  private settle(requestId: number): void {
    const entry = this.pending.get(requestId);
    if (!entry) return;
    this.pending.delete(requestId);
    clearTimeout(entry.timer);
    entry.done({ replies: entry.replies, missing: entry.waiting.size });
  }
}

/** The workers' in-flight counts added up per instance. */
export function sumInflight(replies: readonly ReplyFromWorker[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const reply of replies) {
    for (const [id, count] of Object.entries(reply.inflight ?? {})) total[id] = (total[id] ?? 0) + count;
  }
  return total;
}
