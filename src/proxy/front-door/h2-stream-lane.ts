import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { noUpstreamMessage } from '../error-response.js';
import type { FastLane } from '../fast-lane/fast-lane.js';
import type { RawUpstreamPool } from '../fast-lane/raw-upstream-pool.js';
import { sanitizeRequestHead } from '../forwarded-headers.js';
import type { RequestScope } from '../request-scope.js';
import { checkRequestHead } from '../request-limits.js';
import type { UpstreamTarget } from '../upstream-target.js';
import { H2Exchange, respondWithError, type H2ExchangeLane } from './h2-exchange.js';
import { http1HeadersOfH2 } from './h2-request.js';

/** How often the deadlines of the exchanges under way are checked, as in the fast lane. */
const SWEEP_INTERVAL_MS = 100;

/** A byte no HTTP/1.1 header line may carry (nghttp2 refuses them already; checked again before they reach a head). */
const LINE_BREAKING = /[\0\r\n]/;

/**
 * HTTP/2 requests served from Node's raw stream API rather than its compatibility API (no
 * `Http2ServerRequest`/`Http2ServerResponse`, no undici): the front door routes a stream, and
 * this lane takes it when it is simple, a bodyless GET or HEAD for an app whose table routes by
 * weight alone (no routes, sticky cookie or mirror), from a peer that is not a trusted proxy,
 * with a head within the limits. It sends the request upstream over the fast lane's keep-alive
 * pool (`H2Exchange`). Anything else is left to the compatibility API and the strict lane, which
 * answer it exactly as before: `serve` returns false.
 *
 * The head is checked with the strict lane's own functions (`http1HeadersOfH2`,
 * `sanitizeRequestHead`, `checkRequestHead`), so a request either goes upstream with the same
 * headers, or is handed to the strict lane to be refused there with the same answer.
 */
export class H2StreamLane implements H2ExchangeLane {
  private readonly exchanges = new Set<H2Exchange>();
  private sweeper: NodeJS.Timeout | undefined = undefined;

  constructor(private readonly fastLane: FastLane) {}

  /** The fast lane's pools may be used (off when upstream connections are capped: undici queues for those). */
  get isEnabled(): boolean {
    return this.fastLane.isEnabled;
  }

  /** Exchanges under way (a test's view). */
  get activeCount(): number {
    return this.exchanges.size;
  }

  /**
   * Serves a routed stream of `method` (GET or HEAD, its request already complete) for `scope`
   * when it is simple; false when it must go to the compatibility API.
   */
  serve(scope: RequestScope, stream: ServerHttp2Stream, method: string, url: string, rawHeaders: string[], socket: Socket): boolean {
    const table = scope.route.table;
    if (table.routes !== undefined || table.sticky !== undefined || table.mirror !== undefined || scope.previewRevision !== undefined) return false;
    if (scope.isTrustedPeer(socket)) return false;
    const h1Headers = http1HeadersOfH2(rawHeaders);
    const head = sanitizeRequestHead(h1Headers, socket.remoteAddress, false, scope.forwardedProto);
    if (head.hasTransferEncoding || (head.contentLength !== undefined && head.contentLength !== '0')) return false;
    const path = checkRequestHead(scope.options, method, url, 1, 1, h1Headers.length >> 1, head);
    if (typeof path !== 'string') return false;
    const upstreamHead = http1RequestHead(method, path, head.headers);
    if (upstreamHead === undefined) return false;
    // A stream the client resets with an error code emits 'error': the request just ends (as in the compatibility API).
    stream.on('error', ignore);
    const target = table.isRoutable ? table.pick() : undefined;
    if (target === undefined) {
      table.recordUnrouted();
      respondWithError(stream, 503, noUpstreamMessage(table.app));
      return true;
    }
    const exchange = new H2Exchange(this, scope, stream, method, upstreamHead);
    this.exchanges.add(exchange);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
    exchange.start(target);
    return true;
  }

  poolOf(target: UpstreamTarget): RawUpstreamPool {
    return this.fastLane.poolOf(target);
  }

  poolsInUse(): void {
    this.fastLane.keepSweeping();
  }

  finished(exchange: H2Exchange): void {
    this.exchanges.delete(exchange);
  }

  /** Stops the sweeper (the proxy closes; exchanges left are cut with their sessions). */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = performance.now();
    // Each checks its own deadline and its upstream connection's connect deadline.
    for (const exchange of this.exchanges) exchange.expire(now);
    if (this.exchanges.size === 0) this.close();
  }
}

/** The HTTP/1.1 request head for the upstream, or undefined when a header could not be written on one line. */
function http1RequestHead(method: string, path: string, headers: readonly string[]): string | undefined {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (LINE_BREAKING.test(name) || LINE_BREAKING.test(value)) return undefined;
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

function ignore(): void {}
