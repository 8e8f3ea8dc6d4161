import { createServer, Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { ListenAddress } from '../app-route.js';
import type { FastLane } from '../fast-lane/fast-lane.js';
import type { FastLaneListener, FastScope } from '../fast-lane/fast-lane-listener.js';
import { BodyRateGuard } from '../body-rate-guard.js';
import { handleClientError } from '../client-error.js';
import { sendErrorResponse, writeRawErrorResponse } from '../error-response.js';
import { isHttp2Request } from './h2-request.js';
import { guardH2Session } from './h2-session-guards.js';
import type { ProxyOptions } from '../proxy-options.js';
import type { Tunnel } from '../request-scope.js';
import { TrustedProxies } from '../trusted-proxies.js';
import { listenServer } from '../listen-server.js';

/** What a shared listener hands its requests and upgrades to (the front door's router). */
export interface SharedListenerHandler {
  onRequest(listener: SharedListener, req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(listener: SharedListener, req: IncomingMessage, socket: Socket, head: Buffer): void;
  /**
   * An HTTP/2 stream, before Node's compatibility API sees it: true when the handler served it
   * from the raw stream; false leaves it to the compatibility API (then `onRequest`).
   */
  onStream(listener: SharedListener, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]): boolean;
  /** The app of a plain HTTP/1.1 request in the fast lane; undefined: what `onRequest` answers (the strict lane takes it). */
  fastScopeFor(listener: SharedListener, host: string, target: string, socket: Socket): FastScope | undefined;
}

type StreamListener = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/** Concurrent HTTP/2 streams per connection (a client opening more is refused by nghttp2). */
export const H2_MAX_CONCURRENT_STREAMS = 128;

/**
 * One shared listener of the front door: plain HTTP/1.1, or TLS with HTTP/2 and HTTP/1.1 by
 * ALPN. It knows nothing of apps: requests go to its handler, which picks the app by host. The
 * TLS one picks a certificate per SNI name through `contextFor`; a handshake without SNI, or for
 * a name without a certificate, fails (there is no certificate to show). Closing is graceful:
 * stop accepting, GOAWAY to every HTTP/2 session (streams in flight finish), idle HTTP/1.1
 * connections closed (left to their clients on a gentle close), WebSockets cut or ended, and
 * whatever is left destroyed at the deadline. HTTP/1.1 connections (plain, or TLS by ALPN)
 * start in the fast lane when there is one, which asks the handler for each request's app.
 */
export class SharedListener implements FastLaneListener {
  readonly server: HttpServer | Http2SecureServer;
  readonly bodyGuard: BodyRateGuard;
  readonly tunnels = new Set<Tunnel>();
  readonly isTls: boolean;
  readonly forwardedProto: 'http' | 'https';
  isClosing = false;
  /** HTTP/2 streams served from the raw stream API, and those left to the compatibility API. */
  readonly h2Streams = { raw: 0, compat: 0 };
  private shouldLeaveIdle = false;
  private readonly sessions = new Set<Http2Session>();
  private readonly trustedProxies: TrustedProxies;
  private closed: Promise<void> | undefined;

  constructor(
    readonly address: ListenAddress,
    readonly options: ProxyOptions,
    private readonly handler: SharedListenerHandler,
    contextFor: ((servername: string) => SecureContext | undefined) | undefined,
    /** Takes HTTP/1.1 requests off Node's servers; undefined: every request goes through them. */
    private readonly fastLane: FastLane | undefined = undefined,
  ) {
    this.isTls = contextFor !== undefined;
    this.forwardedProto = this.isTls ? 'https' : 'http';
    this.trustedProxies = new TrustedProxies(options.trustedProxies);
    this.bodyGuard = new BodyRateGuard(options.minBodyBytesPerSecond, options.bodyRateGraceMs);
    const server = contextFor === undefined ? createPlainServer(options) : createTlsServer(options, contextFor);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => handler.onRequest(this, req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => handler.onUpgrade(this, req, socket, head));
    server.on('connect', (req: IncomingMessage, socketOrResponse: Socket | ServerResponse) => {
      // On HTTP/2, Node hands CONNECT over with a response, not a socket: the stream gets a real 400 (no tunnel).
      if (isHttp2Request(req)) {
        sendErrorResponse(socketOrResponse as ServerResponse, 400, 'CONNECT is not supported');
        return;
      }
      const socket = socketOrResponse as Socket;
      socket.on('error', ignore);
      writeRawErrorResponse(socket, 400, 'CONNECT is not supported');
    });
    server.on('clientError', (error: Error, socket: Socket) => handleClientError(error, socket, options.maxRequestLineBytes));
    if (this.isTls) {
      server.on('session', (session: Http2Session) => {
        this.sessions.add(session);
        guardH2Session(session, options.clientRequestTimeoutMs);
        session.once('close', () => this.sessions.delete(session));
        if (this.isClosing) session.close();
      });
      serveRawStreams(server as Http2SecureServer, (stream, headers, flags, rawHeaders) => {
        if (handler.onStream(this, stream, headers, flags, rawHeaders)) {
          this.h2Streams.raw++;
          return true;
        }
        this.h2Streams.compat++;
        return false;
      });
      // Handshake garbage and refused handshakes end their socket; they must not reach the worker.
      server.on('tlsClientError', (_error: Error, socket: Socket) => socket.destroy());
    }
    this.server = server;
    fastLane?.attach(this);
  }

  fastScopeFor(host: string, target: string, socket: Socket): FastScope | undefined {
    return this.handler.fastScopeFor(this, host, target, socket);
  }

  isTrustedPeer(socket: Socket): boolean {
    return !this.trustedProxies.isEmpty && this.trustedProxies.isTrusted(socket.remoteAddress);
  }

  /** Listens on its address, or on the listening socket handed over for it (`cutover restart`, socket activation). */
  listen(handle?: object): Promise<void> {
    return listenServer(this.server, handle ?? { host: this.address.host, port: this.address.port });
  }

  /** The listening socket's libuv handle, for a successor daemon to take over; undefined when not listening. */
  listeningHandle(): object | undefined {
    return (this.server as unknown as { _handle?: object | null })._handle ?? undefined;
  }

  boundAddress(): AddressInfo | undefined {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  /** Called when a response finished while closing: its HTTP/1.1 connection may now be idle. */
  closeIdleConnections(): void {
    if (this.shouldLeaveIdle) return;
    closeIdleHttp1(this.server);
    this.fastLane?.closeIdle(this);
  }

  close(timeoutMs: number, options: { isGentle?: boolean } = {}): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.isClosing = true;
    this.shouldLeaveIdle = options.isGentle === true;
    this.bodyGuard.stop();
    const { server } = this;
    this.closed = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const session of this.sessions) session.destroy();
        closeAllHttp1(server);
        this.fastLane?.destroyAll(this);
        for (const tunnel of [...this.tunnels]) tunnel.destroy();
      }, timeoutMs);
      const onClosed = (): void => {
        clearTimeout(timer);
        resolve();
      };
      // A gentle close (`cutover restart`, a reload) stops listening only: the HTTP servers' own
      // close would also close idle HTTP/1.1 connections at once, racing a client that is just
      // sending its next request on one. They get `Connection: close` with their next answer.
      if (this.shouldLeaveIdle) NetServer.prototype.close.call(server, onClosed);
      else server.close(onClosed);
      for (const session of this.sessions) session.close();
      this.closeIdleConnections();
      for (const tunnel of [...this.tunnels]) {
        if (this.shouldLeaveIdle) tunnel.goAway();
        else tunnel.destroy();
      }
    });
    return this.closed;
  }
}

/**
 * Puts `serve` in front of Node's compatibility API for HTTP/2 streams. A 'request' listener on
 * an HTTP/2 server makes Node add its own 'stream' listener, which builds an
 * `Http2ServerRequest` and `Http2ServerResponse` for every stream; HTTP/1.1 connections (ALPN
 * `http/1.1`) need that 'request' listener all the same. So that listener is taken off and
 * called only for the streams `serve` declines (it returns false), which then reach 'request'
 * exactly as before. Should Node ever register something else, nothing is changed.
 */
function serveRawStreams(server: Http2SecureServer, serve: (...args: Parameters<StreamListener>) => boolean): void {
  const listeners = server.listeners('stream') as StreamListener[];
  if (listeners.length !== 1) return;
  const compat = listeners[0]!;
  server.removeListener('stream', compat);
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (!serve(stream, headers, flags, rawHeaders)) compat.call(server, stream, headers, flags, rawHeaders);
  });
}

function createPlainServer(options: ProxyOptions): HttpServer {
  const server = createServer({
    requestTimeout: options.clientRequestTimeoutMs,
    keepAliveTimeout: options.clientKeepAliveTimeoutMs,
    connectionsCheckingInterval: options.clientTimeoutCheckIntervalMs,
    maxHeaderSize: options.maxHeaderBytes + options.maxRequestLineBytes,
    requireHostHeader: false,
    insecureHTTPParser: false,
  });
  applyHttp1Limits(server, options);
  return server;
}

function createTlsServer(options: ProxyOptions, contextFor: (servername: string) => SecureContext | undefined): Http2SecureServer {
  const server = createSecureServer({
    allowHTTP1: true,
    minVersion: 'TLSv1.2',
    SNICallback: (servername, callback) => {
      const context = contextFor(servername);
      if (context === undefined) callback(new Error(`no certificate for ${servername}`), undefined);
      else callback(null, context);
    },
    // Pseudo-headers count as fields too.
    maxHeaderListPairs: options.maxHeaderCount + 4,
    maxSessionMemory: 10,
    maxSettings: 32,
    settings: {
      maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS,
      maxHeaderListSize: options.maxHeaderBytes + options.maxRequestLineBytes,
      enablePush: false,
    },
    maxHeaderSize: options.maxHeaderBytes + options.maxRequestLineBytes,
  } as Parameters<typeof createSecureServer>[0]);
  // HTTP/1.1 over TLS is served by Node's HTTP/1 server code on this server: the same limits.
  applyHttp1Limits(server as unknown as HttpServer, options);
  // Idle HTTP/2 sessions (and HTTP/1.1 connections) are closed after this long without activity.
  server.setTimeout(Math.max(options.clientKeepAliveTimeoutMs, options.h2IdleTimeoutMs));
  return server;
}

function applyHttp1Limits(server: HttpServer, options: ProxyOptions): void {
  // Read when the server starts listening: how often the two timeouts below are checked.
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = options.clientTimeoutCheckIntervalMs;
  server.headersTimeout = options.clientHeadersTimeoutMs;
  server.requestTimeout = options.clientRequestTimeoutMs;
  server.keepAliveTimeout = options.clientKeepAliveTimeoutMs;
  server.maxHeadersCount = options.maxHeaderCount + 1;
  if (options.maxConnections > 0) server.maxConnections = options.maxConnections;
}

/** Node's HTTP/1 connection tracking serves the TLS server's HTTP/1.1 connections too. */
function closeIdleHttp1(server: HttpServer | Http2SecureServer): void {
  try {
    HttpServer.prototype.closeIdleConnections.call(server);
  } catch {
    // No HTTP/1.1 connection was ever tracked on this server.
  }
}

function closeAllHttp1(server: HttpServer | Http2SecureServer): void {
  try {
    HttpServer.prototype.closeAllConnections.call(server);
  } catch {
    // As above.
  }
}

function ignore(): void {}
