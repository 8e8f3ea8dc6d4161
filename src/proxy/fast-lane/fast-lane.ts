import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AppListener } from '../app-listener.js';
import type { ProxyOptions } from '../proxy-options.js';
import type { UpstreamTarget } from '../upstream-target.js';
import { FastConnection } from './fast-connection.js';
import { RawUpstreamPool } from './raw-upstream-pool.js';

/** How often deadlines (idle clients, slow upstreams, idle upstream connections) are checked. */
const SWEEP_INTERVAL_MS = 100;

type ConnectionListener = (this: Server, socket: Socket) => void;

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
  /** Node's own `connection` listener of each listener's HTTP server. */
  private readonly strictLanes = new WeakMap<Server, ConnectionListener>();
  private sweeper: NodeJS.Timeout | undefined = undefined;

  constructor(private readonly options: ProxyOptions) {
    this.maxPendingBytes = options.maxRequestLineBytes + options.maxHeaderBytes + options.retryBodyBufferBytes;
    this.keepAliveHeaders = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(options.clientKeepAliveTimeoutMs / 1000)}\r\n\r\n`;
  }

  get isEnabled(): boolean {
    return this.options.upstreamMaxConnections === 0;
  }

  /** Puts the fast lane in front of a listener's HTTP server: new connections start in it. */
  attach(listener: AppListener): void {
    if (!this.isEnabled) return;
    const { server } = listener;
    const [strictLane] = server.listeners('connection') as ConnectionListener[];
    if (strictLane === undefined) return;
    this.strictLanes.set(server, strictLane);
    server.removeListener('connection', strictLane);
    server.on('connection', (socket: Socket) => {
      // Trusted proxies' forwarding headers are kept and extended: the strict lane does that.
      if (listener.isTrustedPeer(socket) || listener.isClosing) strictLane.call(server, socket);
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
  handOff(listener: AppListener, socket: Socket): void {
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
  closeIdle(listener: AppListener): void {
    for (const connection of this.connections) {
      if (connection.listener === listener) connection.closeWhenIdle();
    }
  }

  /** Cuts every fast connection of one listener. */
  destroyAll(listener: AppListener): void {
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
