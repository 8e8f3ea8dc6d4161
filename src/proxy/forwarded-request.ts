import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { CutoverError } from '../errors.js';
import type { RequestScope } from './request-scope.js';
import { isHttp2Request, requestHeadOf } from './front-door/h2-request.js';
import { noRevisionUpstreamMessage, noUpstreamMessage, sendErrorResponse, UPSTREAM_FAILED_MESSAGE, UPSTREAM_TIMEOUT_MESSAGE } from './error-response.js';
import { clientResponseHeadersFromRaw, isEventStream, sanitizeRequestHead } from './forwarded-headers.js';
import { RequestBody, type BodyOwner } from './request-body.js';
import { checkRequestHead } from './request-limits.js';
import type { MirrorCopy, MirroredRequest } from './mirror-copy.js';
import { pickFirst, type FirstPick } from './first-pick.js';
import { trackDrain, trackResponse, type ResponseOwner } from './response-tracking.js';
import { classifyUpstreamFailure, failureStatus, isIdempotentMethod } from './upstream-failure.js';
import type { UpstreamFailureKind } from './upstream-failure.js';
import { outcomeOfStatus } from './outlier-ejection.js';
import type { LongLivedConnection, UpstreamTarget } from './upstream-target.js';

/** Proxies one client request to an upstream of the listener's app. */
export function forwardRequest(listener: RequestScope, req: IncomingMessage, res: ServerResponse): void {
  new ForwardedRequest(listener, req, res).start();
}

/**
 * One client request on its way through the proxy, and the undici dispatch handler of its
 * upstream tries. Life cycle:
 *
 * 0. The request head is checked against the limits (request line 414, header section and
 *    count 431, several Host headers or a bad absolute-form target 400, body over the cap 413);
 *    a refused request gets an error with `Connection: close`. A pipelined request waits until
 *    the response before it is complete, so nothing queued behind an error is ever sent on.
 * 1. A body up to `retryBodyBufferBytes` with a known length is read first so it can be sent
 *    again; a larger or chunked body is streamed (with backpressure) and not replayable. A body
 *    arriving slower than the minimum rate is cut (408). See `RequestBody`.
 * 2. An endpoint is picked from the app's current routing table and counted in flight: in
 *    the revision of a preview listener, else of the first matching route (the request is
 *    then pinned to that revision, retries included), else by weight, by the sticky cookie's
 *    hash when the plan asks for it (a client without one is given one with the response).
 *    A request served by weight may be copied to the mirror revision (`MirrorCopy`), after
 *    the real try was dispatched and without ever waiting for the copy. See `pickFirst`.
 * 3. The response head and body are streamed to the client, pausing the upstream whenever
 *    the client socket is full.
 * 4. A failed try is retried on another endpoint (DESIGN rule 3) when nothing of it reached
 *    the upstream, or when an idempotent request with a replayable body was reset before any
 *    response; never once the response started. Up to `maxTries` tries, each on an endpoint
 *    not tried yet (same group first); only after a connection reset may a try go back to an
 *    endpoint already tried (a stale keep-alive socket says nothing about the endpoint).
 *    Otherwise the client gets 502/504, or its socket is destroyed when the response had
 *    already started.
 *
 * The in-flight count of the current endpoint is released exactly once per try, when undici
 * reports the end or the failure of that try.
 *
 * It speaks undici's core handler interface (`onConnect`, `onHeaders`, `onData`, `onComplete`,
 * `onError`) rather than the newer controller one: that one is adapted to this by a wrapper
 * that also builds a header object per response, a cost the benchmark showed on every request.
 */
export class ForwardedRequest implements Dispatcher.DispatchHandler, LongLivedConnection, FirstPick, ResponseOwner, BodyOwner {
  private target: UpstreamTarget | undefined = undefined;
  /** Aborts the current try; set once undici assigned it to a connection. */
  private abortTry: ((reason?: Error) => void) | undefined = undefined;
  /** Resumes the upstream body after the client socket drained. */
  private resumeTry: (() => void) | undefined = undefined;
  private tried: UpstreamTarget[] | undefined = undefined;
  private tries = 0;
  /** undici started writing the current try to a socket. */
  private isWritten = false;
  /** The response head went to the client: no retry, no error page any more. */
  private hasResponded = false;
  private isClientGone = false;
  private isBodyReplayable = true;
  private isDrainHooked = false;
  // Set by `pickFirst` (see FirstPick).
  pinnedRevision: number | undefined = undefined;
  stickySetCookie: string | undefined = undefined;
  mirrorCopy: MirrorCopy | undefined = undefined;
  private upstreamHeaders: string[] | undefined = undefined;
  /** Monotonic ms when the request reached the proxy, for the latency histogram. */
  private readonly startedAtMs = performance.now();
  /** The status the upstream answered, counted once the response ended. */
  private statusCode = 0;
  /** Set when the request has a body. */
  private body: RequestBody | undefined = undefined;
  /** The response is an event stream (`text/event-stream`, no Content-Length): long-lived. */
  private isEventStream = false;
  /** The proxy ended the event stream itself (its endpoint is leaving): the abort is no failure. */
  private isEndedByProxy = false;
  private readonly dispatchOptions: Dispatcher.DispatchOptions;

  constructor(
    private readonly listener: RequestScope,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.dispatchOptions = {
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers: null,
      body: null,
    };
  }

  start(): void {
    const { req, res, listener } = this;
    // A pipelined request: its response is queued behind another one. Wait for that one to
    // finish, so a request queued behind an error response (which closes) is never forwarded.
    if (res.socket === null) {
      res.once('socket', () => this.start());
      return;
    }
    // The connection is already closing (an error answered before this request was parsed):
    // nothing after an error is ever forwarded; the lingering close ends the connection.
    const socket = req.socket;
    if (socket.writableEnded || socket.destroyed) return;
    res.sendDate = false;
    trackResponse(res, this);
    const { options } = listener;
    // An HTTP/2 request is checked and forwarded as the HTTP/1.1 request it becomes upstream.
    const { rawHeaders, versionMajor, versionMinor } = requestHeadOf(req);
    const head = sanitizeRequestHead(rawHeaders, socket.remoteAddress, listener.isTrustedPeer(socket), listener.forwardedProto);
    const path = checkRequestHead(options, req.method ?? 'GET', req.url ?? '/', versionMajor, versionMinor, rawHeaders.length >> 1, head);
    if (typeof path !== 'string') {
      sendErrorResponse(res, path.status, path.message);
      return;
    }
    const table = listener.route.table;
    if (!table.isRoutable && listener.previewRevision === undefined) {
      table.recordUnrouted();
      sendErrorResponse(res, 503, noUpstreamMessage(table.app));
      return;
    }
    const dispatchOptions = this.dispatchOptions;
    dispatchOptions.path = path;
    this.upstreamHeaders = head.headers;
    dispatchOptions.headers = head.headers;
    const contentLength = head.contentLength;
    // HTTP/2 frames its bodies itself: a request may send DATA without a content-length (its
    // stream did not end with the headers). Such a body is streamed, like a chunked one.
    const hasUnframedH2Body =
      contentLength === undefined && isHttp2Request(req) && !(req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders;
    if (!head.hasTransferEncoding && !hasUnframedH2Body) {
      if (contentLength === undefined || contentLength === '0') {
        this.dispatchFirst();
        return;
      }
      const length = Number(contentLength);
      if (options.maxBodyBytes > 0 && length > options.maxBodyBytes) {
        sendErrorResponse(res, 413, 'request body too large');
        return;
      }
      const body = (this.body = new RequestBody(this, req, listener.bodyGuard));
      if (length <= options.retryBodyBufferBytes) {
        body.buffer(length);
        return;
      }
      dispatchOptions.body = body.streamed(0);
    } else {
      dispatchOptions.body = (this.body = new RequestBody(this, req, listener.bodyGuard)).streamed(options.maxBodyBytes);
    }
    this.isBodyReplayable = false;
    this.dispatchFirst();
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.abortTry = abort;
    this.isWritten = true;
    if (this.isClientGone) abort(clientClosedError());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx informational responses (100 Continue, 103 Early Hints) are not forwarded.
    if (statusCode < 200) return true;
    this.resumeTry = resume;
    this.statusCode = statusCode;
    const { res } = this;
    if (this.listener.isClosing) res.shouldKeepAlive = false;
    const clientHeaders = clientResponseHeadersFromRaw(rawHeaders);
    // Added next to the app's own Set-Cookie headers, never instead of them.
    if (this.stickySetCookie !== undefined) clientHeaders.push('set-cookie', this.stickySetCookie);
    const extra = this.listener.extraResponseHeaders;
    if (extra !== undefined) clientHeaders.push(...extra);
    // HTTP/2 has no reason phrase.
    if (statusText && !isHttp2Request(this.req)) res.writeHead(statusCode, statusText, clientHeaders);
    else res.writeHead(statusCode, clientHeaders);
    this.hasResponded = true;
    if (isEventStream(clientHeaders) && this.target !== undefined) {
      this.isEventStream = true;
      this.target.addLongLived(this);
    }
    return true;
  }

  /**
   * Ends an event stream cleanly (its endpoint is leaving): the upstream try is aborted and the
   * client's response ends with the last chunk, so the client sees a finished stream (and
   * reconnects, to an endpoint still in the plan), never a reset.
   */
  goAway(): void {
    if (!this.isEventStream || this.isEndedByProxy || this.res.writableEnded) return;
    this.isEndedByProxy = true;
    if (this.abortTry !== undefined) this.abortTry(new CutoverError('PROXY_STREAM_ENDED', 'the event stream was ended: its instance left the traffic plan'));
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    if (!this.isDrainHooked) {
      this.isDrainHooked = true;
      trackDrain(this.res);
    }
    return false;
  }

  onComplete(): void {
    const target = this.target;
    if (target !== undefined) {
      target.meter.recordResponse(this.statusCode, this.elapsedSeconds());
      this.listener.route.table.recordOutcome(target, outcomeOfStatus(this.statusCode));
    }
    this.release();
    this.res.end();
  }

  onError(error: Error): void {
    this.failTry(error);
  }

  private failTry(error: Error): void {
    const failed = this.target;
    this.release();
    if (this.isClientGone) return;
    if (this.isEndedByProxy) {
      failed?.meter.recordResponse(this.statusCode, this.elapsedSeconds());
      this.res.end();
      return;
    }
    const refusedStatus = this.body?.refusedStatus;
    if (refusedStatus !== undefined) {
      this.refuse(refusedStatus);
      return;
    }
    const kind = classifyUpstreamFailure(error, this.isWritten);
    if (failed !== undefined) {
      failed.meter.recordUpstreamFailure(kind === 'timeout');
      this.listener.route.table.recordOutcome(failed, kind === 'bad-request' ? 'ignored' : 'failure');
    }
    if (this.hasResponded) {
      // Never pass a truncated body off as complete.
      failed?.meter.recordProxyError(502, this.elapsedSeconds());
      this.res.destroy();
      return;
    }
    if (failed !== undefined && this.mayRetry(kind)) {
      const next = this.listener.route.table.pickAfterFailure((this.tried ??= []), failed, error, this.pinnedRevision);
      if (next !== undefined) {
        this.dispatch(next);
        return;
      }
    }
    const status = failureStatus(kind, error);
    failed?.meter.recordProxyError(status, this.elapsedSeconds());
    sendErrorResponse(this.res, status, status === 504 ? UPSTREAM_TIMEOUT_MESSAGE : status === 400 ? 'bad request' : UPSTREAM_FAILED_MESSAGE);
  }

  /** The proxy refuses the request mid-way: an error page if nothing was sent yet, else a cut. */
  private refuse(status: number): void {
    if (this.hasResponded || this.res.headersSent) {
      this.res.destroy();
      return;
    }
    sendErrorResponse(this.res, status, status === 413 ? 'request body too large' : 'request body too slow');
  }

  /** Stops the current try (its error reports the refused status), or answers at once when none runs. */
  onBodyTooSlow(): void {
    const refusedStatus = this.body?.refusedStatus;
    if (this.target !== undefined && this.abortTry !== undefined) {
      this.abortTry(new CutoverError('PROXY_REQUEST_REFUSED', `request refused with ${refusedStatus}`));
      return;
    }
    if (this.target === undefined) this.refuse(refusedStatus ?? 400);
  }

  onBodyBuffered(chunks: Buffer[]): void {
    if (this.isClientGone || this.res.headersSent) return;
    this.dispatchOptions.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.dispatchFirst();
  }

  private dispatchFirst(): void {
    const table = this.listener.route.table;
    const target = pickFirst(table, this.listener.previewRevision, this.req, this);
    if (target === undefined) {
      table.recordUnrouted();
      const pinned = this.pinnedRevision;
      sendErrorResponse(this.res, 503, pinned === undefined ? noUpstreamMessage(table.app) : noRevisionUpstreamMessage(table.app, pinned));
      return;
    }
    const copy = this.mirrorCopy;
    if (copy === undefined) {
      this.dispatch(target);
      return;
    }
    // A streamed body is copied as it flows to the real upstream; a buffered one is shared.
    const { body } = this.dispatchOptions;
    const isStreamed = body !== null && body !== undefined && !Buffer.isBuffer(body);
    if (isStreamed) copy.sendAfterBody(this.mirroredRequest(), this.req);
    this.dispatch(target);
    if (!isStreamed) copy.send(this.mirroredRequest(), Buffer.isBuffer(body) ? body : null);
  }

  private mirroredRequest(): MirroredRequest {
    return { method: this.req.method ?? 'GET', path: this.dispatchOptions.path, headers: this.upstreamHeaders ?? [] };
  }

  private dispatch(target: UpstreamTarget): void {
    this.target = target;
    this.abortTry = undefined;
    this.resumeTry = undefined;
    this.isWritten = false;
    this.tries++;
    target.begin();
    target.pool.dispatch(this.dispatchOptions, this);
  }

  private elapsedSeconds(): number {
    return (performance.now() - this.startedAtMs) / 1000;
  }

  private mayRetry(kind: UpstreamFailureKind): boolean {
    if (this.tries >= this.listener.options.maxTries) return false;
    if (kind === 'not-sent') {
      // A streamed body can go out again only if undici never started reading it.
      return this.isBodyReplayable || this.body?.isUnread === true;
    }
    return kind === 'reset' && this.isBodyReplayable && isIdempotentMethod(this.req.method);
  }

  /** Ends the in-flight count of the current try; safe to call more than once. */
  private release(): void {
    const target = this.target;
    if (target === undefined) return;
    this.target = undefined;
    if (this.isEventStream) target.removeLongLived(this);
    target.end();
  }

  /** The client socket drained: let the upstream body flow again. */
  onClientDrain(): void {
    this.resumeTry?.();
  }

  /** The client's response closed (finished, or the client went away). */
  onClientResponseClose(): void {
    this.body?.stopWatching();
    if (this.listener.isClosing) this.listener.closeIdleConnections();
    // A mirror copy still waiting for a streamed body gives up: that body may never end now.
    this.mirrorCopy?.cancel();
    if (this.res.writableFinished) return;
    this.isClientGone = true;
    // Without an abort function the try is still queued; onConnect aborts it.
    if (this.target !== undefined && this.abortTry !== undefined) this.abortTry(clientClosedError());
  }
}

function clientClosedError(): Error {
  return new CutoverError('PROXY_CLIENT_CLOSED', 'the client closed the connection before the response was complete');
}
