import { createServer } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AppRoute, ListenAddress } from './app-route.js';
import { BodyRateGuard } from './body-rate-guard.js';
import type { FastLane } from './fast-lane/fast-lane.js';
import type { FastLaneListener, FastScope } from './fast-lane/fast-lane-listener.js';
import { handleClientError } from './client-error.js';
import { writeRawErrorResponse } from './error-response.js';
import { forwardRequest } from './forwarded-request.js';
import type { ProxyOptions } from './proxy-options.js';
import { TrustedProxies } from './trusted-proxies.js';
import { openTunnel } from './websocket-tunnel.js';
import { listenServer } from './listen-server.js';
import type { RequestScope, Tunnel } from './request-scope.js';

export type { Tunnel } from './request-scope.js';

/**
 * One listening HTTP server for one app: its main listener, or a preview listener whose every
 * request goes to one revision. Closing it is graceful: stop accepting, close idle keep-alive
 * connections, cut WebSocket tunnels, answer what is in flight with `Connection: close`, and
 * destroy whatever is left when the deadline passes.
 */
export class AppListener implements RequestScope, FastLaneListener, FastScope {
  readonly server: Server;
  /** Set once closing starts: responses then carry `Connection: close`. */
  isClosing = false;
  /**
   * Set by a gentle close (a proxy reload): idle keep-alive connections are not closed by the
   * proxy, which would race a client writing its next request on one; the client closes them
   * first (the proxy's keep-alive timeout, told in every response, is longer than what clients
   * keep), or the next request is answered with `Connection: close`.
   */
  private shouldLeaveIdle = false;
  readonly tunnels = new Set<Tunnel>();
  readonly forwardedProto = 'http';
  readonly extraResponseHeaders = undefined;
  readonly extraResponseHead = '';
  readonly bodyGuard: BodyRateGuard;
  private readonly trustedProxies: TrustedProxies;
  private closed: Promise<void> | undefined;

  constructor(
    readonly route: AppRoute,
    readonly address: ListenAddress,
    readonly options: ProxyOptions,
    /**
     * The revision every request goes to on a preview listener; undefined on the main one.
     * Changed only together with the route's table, so requests see both from one plan.
     */
    public previewRevision: number | undefined = undefined,
    /** Takes plain requests off Node's HTTP server; undefined: every request goes through it. */
    private readonly fastLane: FastLane | undefined = undefined,
  ) {
    this.trustedProxies = new TrustedProxies(options.trustedProxies);
    this.bodyGuard = new BodyRateGuard(options.minBodyBytesPerSecond, options.bodyRateGraceMs);
    const server = createServer({
      requestTimeout: options.clientRequestTimeoutMs,
      keepAliveTimeout: options.clientKeepAliveTimeoutMs,
      connectionsCheckingInterval: options.clientTimeoutCheckIntervalMs,
      // Node counts the request line into its header limit; the proxy checks both exactly
      // (414 and 431) and Node's own limit is the sum, the last line of defence.
      maxHeaderSize: options.maxHeaderBytes + options.maxRequestLineBytes,
      // The proxy checks Host itself (one, and only one, on HTTP/1.1), answering like any refusal.
      requireHostHeader: false,
      insecureHTTPParser: false,
    });
    server.headersTimeout = options.clientHeadersTimeoutMs;
    server.keepAliveTimeout = options.clientKeepAliveTimeoutMs;
    // One more than allowed, so that a request over the limit is seen (and refused with 431).
    server.maxHeadersCount = options.maxHeaderCount + 1;
    if (options.maxConnections > 0) server.maxConnections = options.maxConnections;
    server.on('request', (req, res) => forwardRequest(this, req, res));
    // CONNECT (tunnelling to any host) is not something a reverse proxy offers.
    server.on('connect', (_req, socket: Socket) => {
      socket.on('error', ignore);
      writeRawErrorResponse(socket, 400, 'CONNECT is not supported');
    });
    server.on('clientError', (error: Error, socket: Socket) => handleClientError(error, socket, options.maxRequestLineBytes));
    server.on('upgrade', (req, socket: Socket, head: Buffer) => openTunnel(this, req, socket, head));
    this.server = server;
    fastLane?.attach(this);
  }

  /** True when the peer is a trusted proxy whose X-Forwarded-* headers are kept. */
  isTrustedPeer(socket: Socket): boolean {
    return !this.trustedProxies.isEmpty && this.trustedProxies.isTrusted(socket.remoteAddress);
  }

  /** Every request on an app's own listener is the app's. */
  fastScopeFor(): FastScope {
    return this;
  }

  /**
   * Resolves once listening; rejects with the listen error (EADDRINUSE, EACCES…). `socket`: a
   * listening socket handle handed over (systemd, `cutover restart`) to accept on instead of binding.
   */
  listen(socket?: object): Promise<void> {
    return listenServer(this.server, socket ?? { host: this.address.host, port: this.address.port });
  }

  /** The bound address (tells the port when the plan asked for port 0). */
  boundAddress(): AddressInfo | undefined {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  /** The libuv handle of the listening socket, while listening (a successor daemon takes it over). */
  listeningHandle(): object | undefined {
    return (this.server as unknown as { _handle?: object | null })._handle ?? undefined;
  }

  /** Called when a response finished while closing: its connection may now be idle. */
  closeIdleConnections(): void {
    if (this.shouldLeaveIdle) return;
    this.server.closeIdleConnections();
    this.fastLane?.closeIdle(this);
  }

  /**
   * Stops listening and resolves once every connection is gone, destroying those still open
   * after `timeoutMs`. Idempotent.
   */
  close(timeoutMs: number, options: { isGentle?: boolean } = {}): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.isClosing = true;
    this.shouldLeaveIdle = options.isGentle === true;
    this.bodyGuard.stop();
    const { server } = this;
    this.closed = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.closeAllConnections();
        this.fastLane?.destroyAll(this);
        for (const tunnel of [...this.tunnels]) tunnel.destroy();
      }, timeoutMs);
      const onClosed = (): void => {
        clearTimeout(timer);
        resolve();
      };
      if (this.shouldLeaveIdle) {
        // Stop listening only: http.Server.close would also close the idle connections at once.
        // They end when their clients close them, or at the keep-alive timeout.
        NetServer.prototype.close.call(server, onClosed);
        for (const tunnel of [...this.tunnels]) tunnel.goAway();
        return;
      }
      server.close(onClosed);
      this.closeIdleConnections();
      for (const tunnel of [...this.tunnels]) tunnel.destroy();
    });
    return this.closed;
  }
}

function ignore(): void {}
