import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { CutoverError } from '../errors.js';
import type { AppListener } from './app-listener.js';
import {
  noRevisionUpstreamMessage,
  noUpstreamMessage,
  sendErrorResponse,
  UPSTREAM_FAILED_MESSAGE,
  UPSTREAM_TIMEOUT_MESSAGE,
} from './error-response.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './forwarded-headers.js';
import type { MirrorCopy, MirroredRequest } from './mirror-copy.js';
import type { RoutingTable } from './routing-table.js';
import { newStickyValue } from './sticky-cookie.js';
import { classifyUpstreamFailure, failureStatus, isConnectionReset, isIdempotentMethod } from './upstream-failure.js';
import type { UpstreamFailureKind } from './upstream-failure.js';
import type { UpstreamTarget } from './upstream-target.js';

/** Proxies one client request to an upstream of the listener's app. */
export function forwardRequest(listener: AppListener, req: IncomingMessage, res: ServerResponse): void {
  new ForwardedRequest(listener, req, res).start();
}

/**
 * One client request on its way through the proxy, and the undici dispatch handler of its
 * upstream tries. Life cycle:
 *
 * 1. A body up to `retryBodyBufferBytes` with a known length is read first so it can be sent
 *    again; a larger or chunked body is streamed (with backpressure) and not replayable.
 * 2. An endpoint is picked from the app's current routing table and counted in flight: in
 *    the revision of a preview listener, else of the first matching route (the request is
 *    then pinned to that revision, retries included), else by weight, by the sticky cookie's
 *    hash when the plan asks for it (a client without one is given one with the response).
 *    A request served by weight may be copied to the mirror revision (`MirrorCopy`), after
 *    the real try was dispatched and without ever waiting for the copy.
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
 */
export class ForwardedRequest implements Dispatcher.DispatchHandler {
  private target: UpstreamTarget | undefined = undefined;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private tried: UpstreamTarget[] | undefined = undefined;
  private tries = 0;
  /** undici started writing the current try to a socket. */
  private isWritten = false;
  /** The response head went to the client: no retry, no error page any more. */
  private hasResponded = false;
  private isClientGone = false;
  private isBodyReplayable = true;
  private isDrainHooked = false;
  /** The revision a routed or preview request must stay in; undefined when chosen by weight. */
  private pinnedRevision: number | undefined = undefined;
  /** A Set-Cookie value giving the client a fresh sticky value, when it came without one. */
  private stickySetCookie: string | undefined = undefined;
  private mirrorCopy: MirrorCopy | undefined = undefined;
  private upstreamHeaders: string[] | undefined = undefined;
  private readonly dispatchOptions: Dispatcher.DispatchOptions;

  constructor(
    private readonly listener: AppListener,
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
    const { req, res } = this;
    res.sendDate = false;
    res.once('close', this.onResponseClose);
    const table = this.listener.route.table;
    if (!table.isRoutable && this.listener.previewRevision === undefined) {
      sendErrorResponse(res, 503, noUpstreamMessage(table.app));
      return;
    }
    const upstreamHeaders = upstreamRequestHeaders(req);
    this.upstreamHeaders = upstreamHeaders;
    this.dispatchOptions.headers = upstreamHeaders;
    const headers = req.headers;
    const contentLength = headers['content-length'];
    if (headers['transfer-encoding'] === undefined) {
      if (contentLength === undefined || contentLength === '0') {
        this.dispatchFirst();
        return;
      }
      if (Number(contentLength) <= this.listener.options.retryBodyBufferBytes) {
        this.bufferBody();
        return;
      }
    }
    this.dispatchOptions.body = req;
    this.isBodyReplayable = false;
    this.dispatchFirst();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.isWritten = true;
    if (this.isClientGone) controller.abort(clientClosedError());
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    // 1xx informational responses (100 Continue, 103 Early Hints) are not forwarded.
    if (statusCode < 200) return;
    const { res } = this;
    if (this.listener.isClosing) res.shouldKeepAlive = false;
    const clientHeaders = clientResponseHeaders(headers);
    // Added next to the app's own Set-Cookie headers, never instead of them.
    if (this.stickySetCookie !== undefined) clientHeaders.push('set-cookie', this.stickySetCookie);
    if (statusMessage) res.writeHead(statusCode, statusMessage, clientHeaders);
    else res.writeHead(statusCode, clientHeaders);
    this.hasResponded = true;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.res.write(chunk)) return;
    controller.pause();
    if (!this.isDrainHooked) {
      this.isDrainHooked = true;
      this.res.on('drain', this.onResponseDrain);
    }
  }

  onResponseEnd(): void {
    this.release();
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    const failed = this.target;
    this.release();
    if (this.isClientGone) return;
    if (this.hasResponded) {
      // Never pass a truncated body off as complete.
      this.res.destroy();
      return;
    }
    const kind = classifyUpstreamFailure(error, this.isWritten);
    if (failed !== undefined && this.mayRetry(kind)) {
      const tried = (this.tried ??= []);
      tried.push(failed);
      const next = this.listener.route.table.pickRetry(tried, isConnectionReset(error), this.pinnedRevision);
      if (next !== undefined) {
        this.dispatch(next);
        return;
      }
    }
    const status = failureStatus(kind, error);
    sendErrorResponse(
      this.res,
      status,
      status === 504 ? UPSTREAM_TIMEOUT_MESSAGE : status === 400 ? 'bad request' : UPSTREAM_FAILED_MESSAGE,
    );
  }

  private bufferBody(): void {
    const chunks: Buffer[] = [];
    this.req.on('data', (chunk: Buffer) => chunks.push(chunk));
    this.req.once('end', () => {
      if (this.isClientGone) return;
      this.dispatchOptions.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      this.dispatchFirst();
    });
  }

  private dispatchFirst(): void {
    const table = this.listener.route.table;
    const target = this.pickFirst(table);
    if (target === undefined) {
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
    const isStreamed = body === this.req;
    if (isStreamed) copy.sendAfterBody(this.mirroredRequest(), this.req);
    this.dispatch(target);
    if (!isStreamed) copy.send(this.mirroredRequest(), Buffer.isBuffer(body) ? body : null);
  }

  /** Chooses the first endpoint (see the class comment, step 2); undefined when there is none. */
  private pickFirst(table: RoutingTable): UpstreamTarget | undefined {
    const pinned = this.listener.previewRevision ?? table.routes?.match(this.req.headers);
    if (pinned !== undefined) {
      this.pinnedRevision = pinned;
      return table.pickInRevision(pinned);
    }
    const { sticky } = table;
    let target: UpstreamTarget | undefined;
    if (sticky === undefined) target = table.pick();
    else {
      let value = sticky.read(this.req.headers.cookie);
      if (value === undefined) {
        value = newStickyValue();
        this.stickySetCookie = sticky.setCookie(value);
      }
      target = table.pickSticky(value);
    }
    if (target !== undefined && table.mirror !== undefined) this.mirrorCopy = table.mirror.take(target);
    return target;
  }

  private mirroredRequest(): MirroredRequest {
    return { method: this.req.method ?? 'GET', path: this.dispatchOptions.path, headers: this.upstreamHeaders ?? [] };
  }

  private dispatch(target: UpstreamTarget): void {
    this.target = target;
    this.controller = undefined;
    this.isWritten = false;
    this.tries++;
    target.begin();
    target.pool.dispatch(this.dispatchOptions, this);
  }

  private mayRetry(kind: UpstreamFailureKind): boolean {
    if (this.tries >= this.listener.options.maxTries) return false;
    if (kind === 'not-sent') {
      // A streamed body can go out again only if undici never started reading it.
      return this.isBodyReplayable || (!this.req.readableDidRead && !this.req.destroyed);
    }
    return kind === 'reset' && this.isBodyReplayable && isIdempotentMethod(this.req.method);
  }

  /** Ends the in-flight count of the current try; safe to call more than once. */
  private release(): void {
    const target = this.target;
    if (target === undefined) return;
    this.target = undefined;
    target.end();
  }

  private readonly onResponseDrain = (): void => {
    this.controller?.resume();
  };

  private readonly onResponseClose = (): void => {
    if (this.listener.isClosing) this.listener.closeIdleConnections();
    // A mirror copy still waiting for a streamed body gives up: that body may never end now.
    this.mirrorCopy?.cancel();
    if (this.res.writableFinished) return;
    this.isClientGone = true;
    // Without a controller the try is still queued; onRequestStart aborts it.
    if (this.target !== undefined && this.controller !== undefined) this.controller.abort(clientClosedError());
  };
}

function clientClosedError(): Error {
  return new CutoverError('PROXY_CLIENT_CLOSED', 'the client closed the connection before the response was complete');
}
