import type { TrafficPlan } from '../../model/traffic-plan.js';
import type { ControllerReply, ControllerRequest } from './worker-messages.js';
import type { TrafficRouter } from '../traffic-router.js';
import type { SourcedMeasurements } from '../../model/measurements.js';

type RequestBody = ControllerRequest extends infer R ? (R extends { requestId: number } ? Omit<R, 'requestId'> : never) : never;

type Reply = Extract<ControllerReply, { type: 'reply' }>;

export const REPLY_TIMEOUT_MS = 10_000;

/**
 * The built-in proxy as seen from the controller: requests to the primary over the IPC
 * channel, which fans them out to every proxy worker and answers once all have applied them.
 */
export class IpcRouter implements TrafficRouter {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private movedListener: () => void = () => {};

  private readonly replyTimeoutMs: number;

  constructor(
    private readonly channel: NodeJS.Process = process,
    options: { replyTimeoutMs?: number } = {},
  ) {
    this.replyTimeoutMs = options.replyTimeoutMs ?? REPLY_TIMEOUT_MS;
    channel.on('message', (message: ControllerReply) => {
      if (message?.type === 'measurementsMoved') this.movedListener();
      if (message?.type !== 'reply') return;
      const waiter = this.pending.get(message.requestId);
      if (!waiter) return;
      this.pending.delete(message.requestId);
      clearTimeout(waiter.timer);
      if (message.error) waiter.reject(new Error(message.error));
      else waiter.resolve(message);
    });
  }

  async applyPlan(plan: TrafficPlan): Promise<void> {
    await this.request({ type: 'plan', plan });
  }

  async removeApp(app: string): Promise<void> {
    await this.request({ type: 'removeApp', app });
  }

  async inflight(): Promise<Record<string, number>> {
    return (await this.request({ type: 'inflight' })).inflight ?? {};
  }

  async measurements(): Promise<SourcedMeasurements[]> {
    return (await this.request({ type: 'measurements' })).measurements ?? [];
  }

  onMeasurementsMoved(listener: () => void): void {
    this.movedListener = listener;
  }

  private request(body: RequestBody): Promise<Reply> {
    // Sending on a closed channel would raise an unhandled 'error' on the process.
    if (!this.channel.connected) return Promise.reject(new Error(`the proxy is unreachable: no channel to the primary for ${body.type}`));
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      // Timers run before the event loop reads its I/O: after a long turn (this process busy
      // starting a hundred instances) the deadline is past while the answer waits unread in the
      // channel. The verdict comes after the next read of the channel (setImmediate runs after
      // the poll phase), so only an answer that really did not come counts as none.
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (!this.pending.delete(requestId)) return;
            reject(new Error(`the proxy did not answer ${body.type} within ${this.replyTimeoutMs}ms`));
          }),
        this.replyTimeoutMs,
      );
      this.pending.set(requestId, { resolve, reject, timer });
      this.channel.send!({ ...body, requestId } as ControllerRequest);
    });
  }
}
