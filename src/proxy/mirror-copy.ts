import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import { MIRROR_HEADER } from './forwarded-headers.js';
import type { UpstreamTarget } from './upstream-target.js';

/** The bounds mirror copies stay within on one worker, and how many are in flight now. */
export class MirrorLimits {
  /** Copies holding a slot: from the decision to copy until the copy's answer ended or failed. */
  inflight = 0;

  constructor(
    readonly maxConcurrent: number,
    readonly maxBodyBytes: number,
    readonly timeoutMs: number,
  ) {}

  get hasRoom(): boolean {
    return this.inflight < this.maxConcurrent;
  }
}

/** What a copy repeats of the client request (the headers as sent to the real upstream, so without a mirror marker). */
export interface MirroredRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly string[];
}

/**
 * - `waiting`: the copy holds a slot and waits for the request body.
 * - `sent`: dispatched to the mirror endpoint; its answer is being dropped.
 * - `done`: answered, failed or given up; the slot and the in-flight count are released.
 */
export const MIRROR_COPY_STATES = ['waiting', 'sent', 'done'] as const;
export type MirrorCopyState = (typeof MIRROR_COPY_STATES)[number];

/**
 * One copy of a client request on its way to the mirror revision, and the undici dispatch
 * handler that drops its answer. From creation to its end it holds a slot of the worker's
 * `MirrorLimits` and counts in flight on its endpoint. It is fire and forget: it never
 * touches the client's response, is never retried, and every failure just ends it. A copy
 * whose body turns out larger than `maxBodyBytes`, or does not arrive whole, is never sent.
 */
export class MirrorCopy implements Dispatcher.DispatchHandler {
  private state: MirrorCopyState = 'waiting';
  /** Detaches the listeners of a streamed body being copied. */
  private stopCopyingBody: (() => void) | undefined = undefined;

  constructor(
    private readonly target: UpstreamTarget,
    private readonly limits: MirrorLimits,
  ) {
    limits.inflight++;
    target.begin();
  }

  /** Sends the copy with a body already at hand (`null` for none). */
  send(request: MirroredRequest, body: Buffer | null): void {
    if (this.state !== 'waiting') return;
    const { limits } = this;
    if (body !== null && body.length > limits.maxBodyBytes) {
      this.finish();
      return;
    }
    const headers = [...request.headers, MIRROR_HEADER, '1'];
    this.state = 'sent';
    try {
      this.target.pool.dispatch(
        {
          method: request.method as Dispatcher.HttpMethod,
          path: request.path,
          headers,
          body,
          headersTimeout: limits.timeoutMs,
          bodyTimeout: limits.timeoutMs,
        },
        this,
      );
    } catch {
      this.finish();
    }
  }

  /**
   * Copies a streamed request body as it flows to the real upstream, and sends the copy once
   * it ended. Call it before the real request is dispatched: it listens for 'data' without
   * starting the flow, so the real upstream's writer still reads every chunk and sets the pace
   * (its backpressure pauses both). Over `maxBodyBytes`, or if the body does not end whole
   * before `cancel()` (the client's response closed first), no copy is sent.
   */
  sendAfterBody(request: MirroredRequest, body: IncomingMessage): void {
    const declared = body.headers['content-length'];
    if (declared !== undefined && !(Number(declared) <= this.limits.maxBodyBytes)) {
      this.finish();
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    const stop = (): void => {
      this.stopCopyingBody = undefined;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes <= this.limits.maxBodyBytes) {
        chunks.push(chunk);
        return;
      }
      stop();
      this.finish();
    };
    const onEnd = (): void => {
      // Node drops every 'data' listener when it discards a body nobody read (the real try
      // failed before sending it): then what ended is not the body the client sent.
      const isIntact = body.listenerCount('data', onData) > 0;
      stop();
      if (isIntact) this.send(request, bytes === 0 ? null : Buffer.concat(chunks, bytes));
      else this.finish();
    };
    const onClose = (): void => {
      stop();
      this.finish();
    };
    const isFlowing = body.readableFlowing === true;
    this.stopCopyingBody = stop;
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('close', onClose);
    if (!isFlowing) body.pause();
  }

  /**
   * Gives up the copy if it was not sent yet; a copy already sent runs to its end. Called
   * when the client's response closed: a body that has not ended by then (the real try
   * failed before reading it, or answered early) may never end.
   */
  cancel(): void {
    if (this.state !== 'waiting') return;
    this.stopCopyingBody?.();
    this.finish();
  }

  onRequestStart(): void {}

  onResponseStart(): void {}

  onResponseData(): void {}

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(): void {
    this.finish();
  }

  private finish(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.limits.inflight--;
    this.target.end();
  }
}
