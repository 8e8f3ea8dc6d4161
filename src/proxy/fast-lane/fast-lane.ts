import type { Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ProxyOptions } from '../proxy-options.js';
import type { UpstreamTarget } from '../upstream-target.js';
import { FastConnection } from './fast-connection.js';
import type { FastLaneListener } from './fast-lane-listener.js';
import { RawUpstreamPool } from './raw-upstream-pool.js';

/** How often deadlines (idle clients, slow upstreams, idle upstream connections) are checked. */
const SWEEP_INTERVAL_MS = 100;

type ConnectionListener = (this: Server | Http2SecureServer, socket: Socket) => void;

/**
 * The fast lane of one proxy worker: plain HTTP/1.1 requests skip Node's HTTP server and
 * undici and go over raw keep-alive sockets (`FastConnection`), everything else goes to the
 * strict lane, Node's HTTP server, which the fast lane hands connections to. One timer checks
 * every deadline instead of a timer per request.
 *
 * It is off when upstream connections are capped (`upstreamMaxConnections`): queueing for a
 * connection is left to undici.
 */
export class FastLane {
  readonly connections = new Set<FastConnection>();
  /** Bytes a client may send ahead of the responses before it is paused. */
  readonly maxPendingBytes: number;
  /**
   * Ends the head of a response on a connection that stays open, telling the client how long
   * it may stay idle (as Node's HTTP server does), so that clients close idle connections
   * before the proxy does and never send a request into a closing one.
   */
  readonly keepAliveHeaders: string;
  private readonly pools = new Map<UpstreamTarget, RawUpstreamPool>();
  /** Node's own `connection` (`secureConnection` on TLS) listener of each listener's HTTP server. */
  private readonly strictLanes = new WeakMap<Server | Http2SecureServer, ConnectionListener>();
  private sweeper: NodeJS.Timeout | undefined = undefined;
  /** Requests the fast lane took (the proof, in tests, that a listener's requests go through it). */
  requests = 0;

  constructor(private readonly options: ProxyOptions) {
    this.maxPendingBytes = options.maxRequestLineBytes + options.maxHeaderBytes + options.retryBodyBufferBytes;
    this.keepAliveHeaders = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(options.clientKeepAliveTimeoutMs / 1000)}\r\n\r\n`;
  }

  get isEnabled(): boolean {
    return this.options.upstreamMaxConnections === 0;
  }

  /**
   * Puts the fast lane in front of a listener's HTTP server: new HTTP/1.1 connections start in
   * it. On a TLS server (HTTP/2 with HTTP/1.1 by ALPN) that is the `secureConnection` listener
   * of Node's http2 core, which picks HTTP/2 or its HTTP/1 server by the socket's ALPN protocol:
   * sockets that chose `h2` (or anything but `http/1.1` or nothing) still go to it.
   */
  attach(listener: FastLaneListener): void {
    if (!this.isEnabled) return;
    const { server } = listener;
    // Told by the listener, not by `instanceof tls.Server`: a worker without TLS never loads node:tls.
    const event = listener.forwardedProto === 'https' ? 'secureConnection' : 'connection';
    const [strictLane] = server.listeners(event) as ConnectionListener[];
    if (strictLane === undefined) return;
    this.strictLanes.set(server, strictLane);
    server.removeListener(event, strictLane);
    server.on(event, (socket: Socket) => {
      // Trusted proxies' forwarding headers are kept and extended: the strict lane does that.
      if (listener.isTrustedPeer(socket) || listener.isClosing || !isHttp1(socket)) strictLane.call(server, socket);
      else new FastConnection(listener, this, socket);
    });
  }

  /** A new fast connection: its deadlines need the sweeper, which stops while there is nothing to sweep. */
  track(connection: FastConnection): void {
    this.connections.add(connection);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  /**
   * Pools are in use outside the fast lane's own connections (HTTP/2 streams of the front door):
   * their idle and connecting connections need the sweeper, which stops again once all is quiet.
   */
  keepSweeping(): void {
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  /** The sweeper runs (a test's view of the worker's wake-ups at rest). */
  get isSweeping(): boolean {
    return this.sweeper !== undefined;
  }

  /** Hands a connection over to the listener's strict lane (Node's HTTP server). */
  handOff(listener: FastLaneListener, socket: Socket): void {
    this.strictLanes.get(listener.server)!.call(listener.server, socket);
  }

  /** The raw connection pool of an upstream endpoint. */
  poolOf(target: UpstreamTarget): RawUpstreamPool {
    let pool = this.pools.get(target);
    if (pool === undefined) {
      pool = new RawUpstreamPool(target.host, target.port, this.options.upstreamConnectTimeoutMs);
      this.pools.set(target, pool);
    }
    return pool;
  }

  /** The endpoint left every routing table and has nothing in flight: its idle connections close. */
  forget(target: UpstreamTarget): void {
    this.pools.get(target)?.close();
    this.pools.delete(target);
  }

  /** Fast connections of one listener that are between exchanges close now, the others after their response. */
  closeIdle(listener: FastLaneListener): void {
    for (const connection of this.connections) {
      if (connection.listener === listener) connection.closeWhenIdle();
    }
  }

  /** Cuts every fast connection of one listener. */
  destroyAll(listener: FastLaneListener): void {
    for (const connection of this.connections) {
      if (connection.listener === listener) connection.socket.destroy();
    }
  }

  /** Stops the sweeper and closes every upstream connection. */
  close(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
  }

  private sweep(): void {
    const now = performance.now();
    for (const connection of this.connections) {
      if (connection.deadline <= now) connection.expire();
    }
    let isQuiet = this.connections.size === 0;
    for (const pool of this.pools.values()) {
      pool.sweep(now);
      isQuiet &&= pool.isQuiet;
    }
    // A worker at rest wakes for nothing: the next connection starts the sweeper again.
    if (isQuiet) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}

/** A plain socket, or a TLS one whose ALPN chose HTTP/1.1 or nothing (Node's http2 core serves those with its HTTP/1 server). */
function isHttp1(socket: Socket): boolean {
  const alpn = (socket as Partial<TLSSocket>).alpnProtocol;
  return alpn === undefined || alpn === false || alpn === 'http/1.1';
}
