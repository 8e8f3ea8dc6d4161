import type { ServerHttp2Stream, ServerStreamResponseOptions } from 'node:http2';
import { CutoverError } from '../../errors.js';
import { UPSTREAM_FAILED_MESSAGE, UPSTREAM_TIMEOUT_MESSAGE } from '../error-response.js';
import type { RawUpstreamPool, UpstreamConnection, UpstreamUser } from '../fast-lane/raw-upstream-pool.js';
import { UpstreamClosedError } from '../fast-lane/raw-upstream-pool.js';
import { Framing, INCOMPLETE, MALFORMED, parseUpstreamResponse, type UpstreamResponseHead } from '../fast-lane/upstream-response.js';
import { outcomeOfStatus } from '../outlier-ejection.js';
import type { RequestScope } from '../request-scope.js';
import { classifyUpstreamFailure, failureStatus, isIdempotentMethod } from '../upstream-failure.js';
import type { LongLivedConnection, UpstreamTarget } from '../upstream-target.js';
import { BodyFraming } from '../fast-lane/body-framing.js';
import { MALFORMED_CHUNKED } from '../fast-lane/chunked-scanner.js';
import { h2ResponseHeaders } from './h2-response-head.js';

/** Largest upstream response head read (beyond it: 502), as in the fast lane. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** What an exchange needs from the lane that runs it. */
export interface H2ExchangeLane {
  poolOf(target: UpstreamTarget): RawUpstreamPool;
  /** The pools hold a connection that needs sweeping (connecting, or idle). */
  poolsInUse(): void;
  /** The exchange ended (answered, failed or abandoned): it no longer needs its deadline swept. */
  finished(exchange: H2Exchange): void;
}

/**
 * One HTTP/2 request served from Node's raw stream API through the fast lane's keep-alive
 * pool: a bodyless GET or HEAD, already checked and routed (see `H2StreamLane`). The rules are
 * those of the strict lane (`ForwardedRequest`) and the fast lane (`FastConnection`): counted in
 * flight on its endpoint per try; a try that failed before any response goes again on another
 * endpoint when nothing reached the upstream or the app never read it, or after a reset (the
 * methods are idempotent); a response that started and then failed is cut (the stream reset),
 * never passed off as complete; an event stream is long-lived and ended cleanly when its
 * endpoint leaves. The HTTP/1.1 response becomes HTTP/2: connection-specific headers dropped,
 * chunked framing taken off.
 */
export class H2Exchange implements UpstreamUser, LongLivedConnection {
  /** performance.now() after which the current try is given up (no head yet, or no body byte for too long). */
  deadline = 0;
  private target: UpstreamTarget | undefined = undefined;
  private upstream: UpstreamConnection | undefined = undefined;
  private tried: UpstreamTarget[] | undefined = undefined;
  private tries = 0;
  private readonly startedAt = performance.now();
  private response: UpstreamResponseHead | undefined = undefined;
  private headBytes: Buffer | undefined = undefined;
  private readonly body = new BodyFraming();
  private isEventStream = false;
  private isDone = false;
  private isDrainHooked = false;

  private readonly writeData = (data: Buffer): void => {
    if (this.stream.write(data)) return;
    this.upstream?.socket.pause();
    if (!this.isDrainHooked) {
      this.isDrainHooked = true;
      this.stream.on('drain', () => this.upstream?.socket.resume());
    }
  };

  constructor(
    private readonly lane: H2ExchangeLane,
    private readonly scope: RequestScope,
    private readonly stream: ServerHttp2Stream,
    private readonly method: string,
    /** The HTTP/1.1 request head to send upstream (latin1), final empty line included. */
    private readonly upstreamHead: string,
  ) {
    stream.once('close', () => this.streamClosed());
  }

  /** Starts the first try on `target`. */
  start(target: UpstreamTarget): void {
    this.dispatch(target);
  }

  /** The sweep found the deadline passed: a connection that did not connect in time, or an upstream too slow. */
  expire(now: number): void {
    const upstream = this.upstream;
    if (upstream === undefined) return;
    if (!upstream.isConnected && upstream.deadline <= now) upstream.timeOut();
    else if (this.deadline <= now) upstream.destroy(new CutoverError('UND_ERR_HEADERS_TIMEOUT', 'the upstream did not answer in time'));
  }

  private dispatch(target: UpstreamTarget): void {
    this.target = target;
    this.tries++;
    this.response = undefined;
    this.headBytes = undefined;
    this.body.reset();
    target.begin();
    const upstream = this.lane.poolOf(target).acquire(this);
    this.upstream = upstream;
    this.lane.poolsInUse();
    this.deadline = deadlineAfter(this.scope.options.upstreamHeadersTimeoutMs);
    upstream.socket.write(this.upstreamHead, 'latin1');
  }

  onUpstreamData(view: Buffer): void {
    // The HTTP/2 stream keeps what it is given past this call, and `view` is the upstream's reused read buffer.
    const chunk = Buffer.from(view);
    if (this.response === undefined) {
      this.readResponseHead(chunk);
      return;
    }
    this.deadline = deadlineAfter(this.scope.options.upstreamBodyTimeoutMs);
    this.forwardBody(chunk, 0);
  }

  private readResponseHead(chunk: Buffer): void {
    // The client reset its stream and Node has not told yet: the upstream is not to blame.
    if (this.stream.destroyed) {
      this.streamClosed();
      return;
    }
    const isHead = this.method === 'HEAD';
    let bytes = this.headBytes === undefined ? chunk : Buffer.concat([this.headBytes, chunk]);
    let head = parseUpstreamResponse(bytes, 0, isHead, MAX_RESPONSE_HEAD_BYTES);
    // 1xx informational heads (100 Continue, 103 Early Hints) are not forwarded.
    while (typeof head === 'object' && head.status < 200) {
      bytes = bytes.subarray(head.length);
      head = parseUpstreamResponse(bytes, 0, isHead, MAX_RESPONSE_HEAD_BYTES);
    }
    this.headBytes = undefined;
    if (head === INCOMPLETE) {
      this.headBytes = bytes;
      return;
    }
    if (head === MALFORMED) {
      this.upstream?.destroy(malformedError());
      return;
    }
    const hasNoBody = head.framing === Framing.None || (head.framing === Framing.Length && head.contentLength === 0);
    try {
      this.stream.respond(h2ResponseHeaders(head.clientHead, head.status, this.scope.extraResponseHeaders), withoutDate({ endStream: hasNoBody }));
    } catch {
      // A head HTTP/2 cannot carry (a header repeated that must be single): as malformed.
      this.upstream?.destroy(malformedError());
      return;
    }
    this.response = head;
    this.deadline = deadlineAfter(this.scope.options.upstreamBodyTimeoutMs);
    if (head.isEventStream && head.framing !== Framing.Length) {
      this.isEventStream = true;
      this.target!.addLongLived(this);
      // An endpoint already saying goodbye ended the stream at once.
      if (this.isDone) return;
    }
    this.body.begin(head);
    this.forwardBody(bytes, head.length);
  }

  /**
   * Writes the body bytes of `chunk` from `start` (a chunked body without its framing: the
   * scanner hands its data over), and completes the exchange at the body's end.
   */
  private forwardBody(chunk: Buffer, start: number): void {
    const { body } = this;
    const end = body.end(chunk, start, false, this.writeData);
    if (end === MALFORMED_CHUNKED) {
      this.upstream?.destroy(malformedError());
      return;
    }
    if (body.framing !== Framing.Chunked && end > start) this.writeData(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
    if (body.isComplete) this.complete();
  }

  /** The response went out whole: count it, give the upstream connection back, end the stream. */
  private complete(): void {
    const response = this.response!;
    const target = this.target!;
    target.meter.recordResponse(response.status, this.elapsedSeconds());
    this.scope.route.table.recordOutcome(target, outcomeOfStatus(response.status));
    const upstream = this.upstream!;
    this.upstream = undefined;
    upstream.socket.resume();
    const { options } = this.scope;
    const idleMs = Math.min(options.upstreamKeepAliveTimeoutMs, (response.keepAliveMs ?? Infinity) - options.upstreamKeepAliveThresholdMs);
    this.lane.poolOf(target).release(upstream, response.isReusable && !this.body.isOverrun, idleMs);
    this.lane.poolsInUse();
    if (!this.stream.writableEnded) this.stream.end();
    this.finish();
  }

  /**
   * Ends an event stream cleanly (its endpoint is leaving): the upstream try is given up and
   * the client's stream ends, so the client sees a finished stream and reconnects, to an
   * endpoint still in the plan; never a reset. As the strict lane does for HTTP/2.
   */
  goAway(): void {
    if (!this.isEventStream || this.isDone) return;
    this.target?.meter.recordResponse(this.response!.status, this.elapsedSeconds());
    this.dropUpstream();
    if (!this.stream.writableEnded) this.stream.end();
    this.finish();
  }

  onUpstreamClosed(error: Error): void {
    const upstream = this.upstream;
    this.upstream = undefined;
    if (this.isDone || upstream === undefined) return;
    const response = this.response;
    const failed = this.target!;
    if (response !== undefined && response.framing === Framing.UntilClose && error instanceof UpstreamClosedError && error.isOrderlyEnd) {
      failed.meter.recordResponse(response.status, this.elapsedSeconds());
      this.scope.route.table.recordOutcome(failed, outcomeOfStatus(response.status));
      if (!this.stream.writableEnded) this.stream.end();
      this.finish();
      return;
    }
    const kind = classifyUpstreamFailure(error, upstream.isConnected);
    failed.meter.recordUpstreamFailure(kind === 'timeout');
    this.scope.route.table.recordOutcome(failed, 'failure');
    if (response !== undefined) {
      // Never pass a truncated body off as complete.
      failed.meter.recordProxyError(502, this.elapsedSeconds());
      this.finish();
      this.stream.destroy();
      return;
    }
    failed.end();
    this.target = undefined;
    if (this.tries < this.scope.options.maxTries && (kind === 'not-sent' || (kind === 'reset' && isIdempotentMethod(this.method)))) {
      const next = this.scope.route.table.pickAfterFailure((this.tried ??= []), failed, error, undefined);
      if (next !== undefined) {
        this.dispatch(next);
        return;
      }
    }
    const status = failureStatus(kind, error);
    failed.meter.recordProxyError(status, this.elapsedSeconds());
    this.finish();
    respondWithError(this.stream, status, status === 504 ? UPSTREAM_TIMEOUT_MESSAGE : UPSTREAM_FAILED_MESSAGE);
  }

  /** The client's stream closed: a try still running is abandoned, its upstream connection closed. */
  private streamClosed(): void {
    if (this.isDone) return;
    this.dropUpstream();
    this.finish();
  }

  private dropUpstream(): void {
    const upstream = this.upstream;
    this.upstream = undefined;
    if (upstream !== undefined) {
      upstream.user = undefined;
      upstream.destroy();
    }
  }

  /** Ends the in-flight count of the current try and the exchange; once. */
  private finish(): void {
    if (this.isDone) return;
    this.isDone = true;
    const target = this.target;
    this.target = undefined;
    if (target !== undefined) {
      if (this.isEventStream) target.removeLongLived(this);
      target.end();
    }
    this.lane.finished(this);
    if (this.scope.isClosing) this.scope.closeIdleConnections();
  }

  private elapsedSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }
}

/** The proxy's own short text/plain answer on one stream, as `sendErrorResponse` gives HTTP/2 requests. */
export function respondWithError(stream: ServerHttp2Stream, status: number, message: string): void {
  if (stream.headersSent || stream.destroyed) return;
  const body = `${message}\n`;
  stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) }, withoutDate({}));
  stream.end(body);
}

/** Node adds a `date` header unless told not to (`sendDate`, missing from its types): the upstream's own is passed on, as the strict lane does. */
function withoutDate(options: ServerStreamResponseOptions): ServerStreamResponseOptions {
  return Object.assign(options, { sendDate: false });
}

/** A deadline `ms` from now; none for 0 (undici's meaning of a 0 timeout, which the strict lane follows). */
function deadlineAfter(ms: number): number {
  return ms > 0 ? performance.now() + ms : Infinity;
}

function malformedError(): Error {
  return new CutoverError('PROXY_UPSTREAM_MALFORMED', 'the upstream sent a malformed response');
}
