import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AppRoute, ListenAddress } from './app-route.js';
import { forwardRequest } from './forwarded-request.js';
import type { ProxyOptions } from './proxy-options.js';
import { openTunnel } from './websocket-tunnel.js';

/** Something long-lived on a listener that must be cut when the listener closes. */
export interface Tunnel {
  destroy(): void;
}

/**
 * One listening HTTP server for one app: its main listener, or a preview listener whose every
 * request goes to one revision. Closing it is graceful: stop accepting, close idle keep-alive
 * connections, cut WebSocket tunnels, answer what is in flight with `Connection: close`, and
 * destroy whatever is left when the deadline passes.
 */
export class AppListener {
  readonly server: Server;
  /** Set once closing starts: responses then carry `Connection: close`. */
  isClosing = false;
  readonly tunnels = new Set<Tunnel>();
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
  ) {
    const server = createServer({
      requestTimeout: options.clientRequestTimeoutMs,
      keepAliveTimeout: options.clientKeepAliveTimeoutMs,
      connectionsCheckingInterval: options.clientTimeoutCheckIntervalMs,
    });
    server.headersTimeout = options.clientHeadersTimeoutMs;
    server.keepAliveTimeout = options.clientKeepAliveTimeoutMs;
    server.on('request', (req, res) => forwardRequest(this, req, res));
    server.on('upgrade', (req, socket: Socket, head: Buffer) => openTunnel(this, req, socket, head));
    this.server = server;
  }

  /** Resolves once listening; rejects with the listen error (EADDRINUSE, EACCES…). */
  listen(): Promise<void> {
    const { server } = this;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        server.off('listening', onListening);
        reject(error);
      };
      const onListening = (): void => {
        server.off('error', onError);
        // Accept errors (EMFILE…) are emitted on the server; they must not kill the worker.
        server.on('error', ignore);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ host: this.address.host, port: this.address.port });
    });
  }

  /** The bound address (tells the port when the plan asked for port 0). */
  boundAddress(): AddressInfo | undefined {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  /** Called when a response finished while closing: its connection may now be idle. */
  closeIdleConnections(): void {
    this.server.closeIdleConnections();
  }

  /**
   * Stops listening and resolves once every connection is gone, destroying those still open
   * after `timeoutMs`. Idempotent.
   */
  close(timeoutMs: number): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.isClosing = true;
    const { server } = this;
    this.closed = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.closeAllConnections();
        for (const tunnel of [...this.tunnels]) tunnel.destroy();
      }, timeoutMs);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
      for (const tunnel of [...this.tunnels]) tunnel.destroy();
    });
    return this.closed;
  }
}

function ignore(): void {}
