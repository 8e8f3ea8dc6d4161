import type { Socket } from 'node:net';
import { noRevisionUpstreamMessage, noUpstreamMessage, UPSTREAM_FAILED_MESSAGE, UPSTREAM_TIMEOUT_MESSAGE, writeRawErrorResponse } from '../error-response.js';
import { classifyUpstreamFailure, failureStatus, isIdempotentMethod } from '../upstream-failure.js';
import { outcomeOfStatus } from '../outlier-ejection.js';
import type { LongLivedConnection, UpstreamTarget } from '../upstream-target.js';
import { MALFORMED_CHUNKED } from './chunked-scanner.js';
import { Exchange } from './exchange.js';
import type { FastLane } from './fast-lane.js';
import type { FastLaneListener, FastScope } from './fast-lane-listener.js';
import { UpstreamClosedError } from './raw-upstream-pool.js';
import type { UpstreamUser } from './raw-upstream-pool.js';
import { parseSimpleRequest } from './simple-request.js';
import type { SimpleRequest } from './simple-request.js';
import { Framing, INCOMPLETE, MALFORMED, parseUpstreamResponse } from './upstream-response.js';
import { CutoverError } from '../../errors.js';

/** Largest upstream response head the fast lane reads (beyond it: 502), like undici's default. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/**
 * One client connection in the fast lane: plain HTTP/1.1 requests that arrived whole are
 * forwarded over raw keep-alive sockets, one exchange at a time, with no per-request objects
 * beyond the parsed head. Each request's app is the listener's answer (`fastScopeFor`: itself
 * on an app's own listener, by Host and path on a shared one). The first request that is not
 * plain (see `parseSimpleRequest`), or not complete in what was read, or that the listener
 * answers itself, or that needs routing the fast lane does not do (routes, sticky sessions,
 * mirroring), hands the connection over to Node's HTTP server at that request boundary, bytes
 * already read included: from then on the strict lane serves it.
 *
 * The rules are those of the strict lane (`ForwardedRequest`): an endpoint is picked from the
 * app's current table (the preview's revision on a preview listener) and counted in flight; a
 * try that failed before any response is retried on another endpoint when nothing reached the
 * upstream, or when an idempotent request was reset (bodies are buffered, so always
 * replayable); a response that started and then failed is cut, never passed off as complete.
 */
export class FastConnection implements UpstreamUser, LongLivedConnection {
  /** Bytes read and not yet handled (the next requests, pipelined or partial). */
  private pending: Buffer | undefined = undefined;
  private isHandedOff = false;
  /** performance.now() after which an idle connection, or the current try, is given up. */
  deadline = 0;

  /** The current exchange, reused from one to the next; `exchange.request` is undefined between exchanges. */
  private readonly exchange = new Exchange();
  /** The app of the current exchange (set before it begins, kept after it ends). */
  private scope: FastScope | undefined = undefined;

  private readonly onClientData = (chunk: Buffer): void => this.clientData(chunk);
  private readonly onClientEnd = (): void => this.clientEnded();
  private readonly onClientClose = (): void => this.clientClosed();
  private readonly onClientDrain = (): void => {
    this.exchange.upstream?.socket.resume();
  };

  constructor(
    readonly listener: FastLaneListener,
    private readonly lane: FastLane,
    readonly socket: Socket,
  ) {
    socket.setNoDelay(true);
    socket.on('data', this.onClientData);
    socket.on('end', this.onClientEnd);
    socket.on('close', this.onClientClose);
    socket.on('error', ignore);
    socket.on('drain', this.onClientDrain);
    this.deadline = performance.now() + listener.options.clientKeepAliveTimeoutMs;
    lane.track(this);
  }

  /** True between exchanges: the connection can be closed without cutting anything. */
  get isIdle(): boolean {
    return this.exchange.request === undefined;
  }

  /** Closes an idle connection at once; a busy one closes after its response. */
  closeWhenIdle(): void {
    if (this.isIdle) this.socket.end();
  }

  /** The sweep found the deadline passed: an idle keep-alive connection, or a try that took too long. */
  expire(): void {
    if (this.exchange.request === undefined) {
      this.socket.destroy();
      return;
    }
    this.exchange.upstream?.destroy(new CutoverError('UND_ERR_HEADERS_TIMEOUT', 'the upstream did not answer in time'));
  }

  private clientData(chunk: Buffer): void {
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.exchange.request === undefined) this.next();
    // A client that sends far ahead of the responses is paused until they catch up.
    else if (this.pending.length > this.lane.maxPendingBytes) this.socket.pause();
  }

  /** Starts the next buffered request, or hands the connection over when it is not plain. */
  private next(): void {
    const pending = this.pending;
    if (pending === undefined) {
      this.deadline = performance.now() + this.listener.options.clientKeepAliveTimeoutMs;
      return;
    }
    const { listener } = this;
    const request = parseSimpleRequest(pending, 0, this.socket.remoteAddress, listener.options, listener.forwardedProto);
    const scope = request === undefined ? undefined : listener.fastScopeFor(request.host, request.target, this.socket);
    const table = scope?.route.table;
    if (request === undefined || scope === undefined || table!.routes !== undefined || table!.sticky !== undefined || table!.mirror !== undefined) {
      this.handOff();
      return;
    }
    this.pending = pending.length > request.length ? pending.subarray(request.length) : undefined;
    this.socket.resume();
    this.scope = scope;
    this.begin(request, scope);
  }

  /** Gives the connection, and the bytes read but not handled, to Node's HTTP server. */
  private handOff(): void {
    const { socket } = this;
    this.isHandedOff = true;
    this.lane.connections.delete(this);
    socket.pause();
    socket.off('data', this.onClientData);
    socket.off('end', this.onClientEnd);
    socket.off('close', this.onClientClose);
    socket.off('error', ignore);
    socket.off('drain', this.onClientDrain);
    if (this.pending !== undefined) socket.unshift(this.pending);
    this.pending = undefined;
    this.lane.handOff(this.listener, socket);
    socket.resume();
  }

  private begin(request: SimpleRequest, scope: FastScope): void {
    const table = scope.route.table;
    const preview = scope.previewRevision;
    this.lane.requests++;
    this.exchange.begin(request, preview);
    let target: UpstreamTarget | undefined;
    if (preview !== undefined) target = table.pickInRevision(preview);
    else if (table.isRoutable) target = table.pick();
    if (target === undefined) {
      table.recordUnrouted();
      this.sendError(503, preview === undefined ? noUpstreamMessage(table.app) : noRevisionUpstreamMessage(table.app, preview));
      return;
    }
    this.dispatch(target);
  }

  private dispatch(target: UpstreamTarget): void {
    const exchange = this.exchange;
    const request = exchange.request!;
    exchange.beginTry(target);
    target.begin();
    const upstream = this.lane.poolOf(target).acquire(this);
    exchange.upstream = upstream;
    this.deadline = performance.now() + this.listener.options.upstreamHeadersTimeoutMs;
    const { socket } = upstream;
    if (request.body === undefined) {
      socket.write(request.upstreamHead, 'latin1');
    } else {
      socket.cork();
      socket.write(request.upstreamHead, 'latin1');
      socket.write(request.body);
      socket.uncork();
    }
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.exchange.response === undefined) {
      this.readResponseHead(chunk);
      return;
    }
    this.deadline = performance.now() + this.listener.options.upstreamBodyTimeoutMs;
    this.forwardBody(chunk, 0);
  }

  private readResponseHead(chunk: Buffer): void {
    const exchange = this.exchange;
    let bytes = exchange.headBytes === undefined ? chunk : Buffer.concat([exchange.headBytes, chunk]);
    let head = parseUpstreamResponse(bytes, 0, exchange.request!.method === 'HEAD', MAX_RESPONSE_HEAD_BYTES);
    // 1xx informational heads (100 Continue, 103 Early Hints) are not forwarded.
    while (typeof head === 'object' && head.status < 200) {
      bytes = bytes.subarray(head.length);
      head = parseUpstreamResponse(bytes, 0, exchange.request!.method === 'HEAD', MAX_RESPONSE_HEAD_BYTES);
    }
    if (head === INCOMPLETE) {
      // Kept past this read: a copy (the upstream's read buffer is reused).
      exchange.headBytes = Buffer.from(bytes);
      return;
    }
    if (head === MALFORMED) {
      exchange.headBytes = undefined;
      exchange.upstream?.destroy(malformedError());
      return;
    }
    exchange.headBytes = undefined;
    exchange.response = head;
    this.deadline = performance.now() + this.listener.options.upstreamBodyTimeoutMs;
    if (this.listener.isClosing || head.framing === Framing.UntilClose) exchange.closesAfterResponse = true;
    const ending = exchange.closesAfterResponse ? 'connection: close\r\n\r\n' : this.lane.keepAliveHeaders;
    let clientHead: string | undefined = `${head.clientHead}${this.scope!.extraResponseHead}${ending}`;
    if (head.isEventStream && head.framing !== Framing.Length) {
      exchange.isEventStream = true;
      // The head goes out before the stream counts as long-lived: a goodbye under way ends it at once.
      this.socket.write(clientHead, 'latin1');
      clientHead = undefined;
      exchange.target!.addLongLived(this);
      // An endpoint already saying goodbye ends a stream delimited by the close at once: the exchange is over.
      if (exchange.response === undefined) return;
    }
    exchange.body.begin(head);
    this.forwardBody(bytes, head.length, clientHead);
  }

  /**
   * Writes the body bytes of `chunk` from `start`, after the response head when given (one
   * write of one buffer: a string and a slice under cork cost a writev and a string copy in
   * C++ on every response), and completes the exchange at the body's end.
   */
  private forwardBody(chunk: Buffer, start: number, head?: string): void {
    const exchange = this.exchange;
    const { body } = exchange;
    const end = body.end(chunk, start, exchange.isGoingAway);
    if (end === MALFORMED_CHUNKED) {
      if (head !== undefined) this.socket.write(head, 'latin1');
      exchange.upstream?.destroy(malformedError());
      return;
    }
    const out = clientBytes(chunk, start, end, head);
    if (out !== undefined && !this.socket.write(out)) {
      exchange.upstream?.socket.pause();
    }
    if (!body.isComplete) return;
    if (body.chunked !== undefined && !body.chunked.isDone) this.endStreamEarly();
    else this.complete();
  }

  /**
   * Ends an event stream cleanly because its endpoint is leaving: the last chunk at a chunk
   * boundary (at once if the stream is between chunks, else when the current chunk ends), or
   * for a stream delimited by the close, the end of the client connection. The client sees a
   * finished stream and reconnects, to an endpoint still in the plan; never a reset.
   */
  goAway(): void {
    const exchange = this.exchange;
    if (!exchange.isEventStream || exchange.isGoingAway || exchange.response === undefined) return;
    exchange.isGoingAway = true;
    if (exchange.response.framing === Framing.UntilClose) this.endStreamEarly();
    else if (exchange.body.chunked?.isBetweenChunks === true) this.endStreamEarly();
  }

  private endStreamEarly(): void {
    const exchange = this.exchange;
    const response = exchange.response!;
    const upstream = exchange.upstream;
    exchange.upstream = undefined;
    if (upstream !== undefined) {
      upstream.user = undefined;
      upstream.destroy();
    }
    exchange.target!.meter.recordResponse(response.status, exchange.elapsedSeconds());
    const isChunked = response.framing === Framing.Chunked;
    this.endExchange();
    if (isChunked && !this.listener.isClosing && !exchange.closesAfterResponse) {
      this.socket.write('0\r\n\r\n', 'latin1');
      this.next();
      return;
    }
    if (isChunked) this.socket.end('0\r\n\r\n', 'latin1');
    else this.socket.end();
  }

  /** The response went out whole: count it, give the upstream connection back, go on. */
  private complete(): void {
    const exchange = this.exchange;
    const response = exchange.response!;
    const target = exchange.target!;
    target.meter.recordResponse(response.status, exchange.elapsedSeconds());
    this.scope!.route.table.recordOutcome(target, outcomeOfStatus(response.status));
    const upstream = exchange.upstream!;
    exchange.upstream = undefined;
    upstream.socket.resume();
    const { options } = this.listener;
    const idleMs = Math.min(options.upstreamKeepAliveTimeoutMs, (response.keepAliveMs ?? Infinity) - options.upstreamKeepAliveThresholdMs);
    this.lane.poolOf(target).release(upstream, response.isReusable && !exchange.body.isOverrun, idleMs);
    this.endExchange();
    if (exchange.closesAfterResponse || this.listener.isClosing) {
      this.socket.end();
      return;
    }
    this.next();
  }

  onUpstreamClosed(error: Error): void {
    const exchange = this.exchange;
    const upstream = exchange.upstream;
    exchange.upstream = undefined;
    if (exchange.request === undefined || upstream === undefined) return;
    const response = exchange.response;
    if (response !== undefined && response.framing === Framing.UntilClose && error instanceof UpstreamClosedError && error.isOrderlyEnd) {
      exchange.target!.meter.recordResponse(response.status, exchange.elapsedSeconds());
      this.scope!.route.table.recordOutcome(exchange.target!, outcomeOfStatus(response.status));
      this.endExchange();
      this.socket.end();
      return;
    }
    const failed = exchange.target!;
    const kind = classifyUpstreamFailure(error, upstream.isConnected);
    failed.meter.recordUpstreamFailure(kind === 'timeout');
    this.scope!.route.table.recordOutcome(failed, 'failure');
    if (response !== undefined) {
      // Never pass a truncated body off as complete.
      failed.meter.recordProxyError(502, exchange.elapsedSeconds());
      this.endExchange();
      this.socket.destroy();
      return;
    }
    failed.end();
    exchange.target = undefined;
    if (exchange.tries < this.listener.options.maxTries && (kind === 'not-sent' || (kind === 'reset' && isIdempotentMethod(exchange.request.method)))) {
      const next = this.scope!.route.table.pickAfterFailure((exchange.tried ??= []), failed, error, exchange.pinnedRevision);
      if (next !== undefined) {
        this.dispatch(next);
        return;
      }
    }
    const status = failureStatus(kind, error);
    failed.meter.recordProxyError(status, exchange.elapsedSeconds());
    this.sendError(status, status === 504 ? UPSTREAM_TIMEOUT_MESSAGE : UPSTREAM_FAILED_MESSAGE);
  }

  /** Answers the current request with an error and closes the connection, as the strict lane does. */
  private sendError(status: number, message: string): void {
    this.endExchange();
    this.pending = undefined;
    this.lane.connections.delete(this);
    writeRawErrorResponse(this.socket, status, message);
  }

  /** Ends the in-flight count of the current try and forgets the exchange. */
  private endExchange(): void {
    const exchange = this.exchange;
    if (exchange.isEventStream) {
      exchange.isEventStream = false;
      exchange.isGoingAway = false;
      exchange.target?.removeLongLived(this);
    }
    exchange.target?.end();
    exchange.clear();
  }

  /**
   * The client sent its FIN. As Node's HTTP server does (without `httpAllowHalfOpen`), a request
   * still running is abandoned and the connection closes.
   */
  private clientEnded(): void {
    this.abandon();
    this.socket.end();
  }

  /** The client connection closed: a try still running is abandoned, its upstream connection closed. */
  private clientClosed(): void {
    this.lane.connections.delete(this);
    if (!this.isHandedOff) this.abandon();
  }

  private abandon(): void {
    const upstream = this.exchange.upstream;
    this.exchange.upstream = undefined;
    if (upstream !== undefined) {
      upstream.user = undefined;
      upstream.destroy();
    }
    this.endExchange();
    this.pending = undefined;
  }
}

/**
 * What goes to the client for `chunk[start, end)`: after the head (latin1) when given, in one
 * new buffer (the socket may hold it past this call, and `chunk` is the upstream's reused read
 * buffer); undefined when nothing.
 */
function clientBytes(chunk: Buffer, start: number, end: number, head: string | undefined): Buffer | undefined {
  if (head === undefined) return end <= start ? undefined : Buffer.from(chunk.subarray(start, end));
  const out = Buffer.allocUnsafe(head.length + end - start);
  out.write(head, 0, 'latin1');
  chunk.copy(out, head.length, start, end);
  return out;
}

function malformedError(): Error {
  return new CutoverError('PROXY_UPSTREAM_MALFORMED', 'the upstream sent a malformed response');
}

function ignore(): void {}
