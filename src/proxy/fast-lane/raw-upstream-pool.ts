import net from 'node:net';
import type { Socket } from 'node:net';
import { CutoverError } from '../../errors.js';
import { isUnreadReset, markRequestUnread } from '../upstream-failure.js';

/** Whoever uses an upstream connection for one exchange; told what the connection sees. */
export interface UpstreamUser {
  /**
   * Bytes the upstream sent. `chunk` is a view into a read buffer that the next read of any
   * upstream connection overwrites: valid during the call only; what is kept (or written to a
   * socket) past it must be copied.
   */
  onUpstreamData(chunk: Buffer): void;
  /** The connection ended or failed before the user released it. */
  onUpstreamClosed(error: Error): void;
}

/**
 * Where every upstream connection of the process reads (Node's `onread`): reads are handled
 * one at a time and to the end before the next, so one buffer serves them all. Without it, Node
 * allocates a 64 KiB buffer for each read, shrinks it, wraps it in an ArrayBuffer and pushes it
 * through the socket's Readable stream (malloc, free and stream code showed in every profile of
 * the fast lane under load; docs/benchmarks.md has the figures).
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * One keep-alive TCP connection to an upstream endpoint, carrying one exchange at a time.
 * Bytes written before the connection is established are queued by the socket.
 */
export class UpstreamConnection {
  readonly socket: Socket;
  user: UpstreamUser | undefined = undefined;
  /** The TCP connection was established: whatever is written may reach the upstream. */
  isConnected = false;
  /** performance.now() after which the connection is given up: connecting, or idle in the pool. */
  deadline: number;
  /** The upstream sent bytes since the current user took the connection. */
  private hasAnswered = false;
  private isClosed = false;

  constructor(
    private readonly pool: RawUpstreamPool,
    host: string,
    port: number,
    connectTimeoutMs: number,
  ) {
    this.deadline = performance.now() + connectTimeoutMs;
    const socket = net.connect({ host, port, noDelay: true, onread: { buffer: READ_BUFFER, callback: (bytes: number) => this.received(bytes) } });
    socket.on('connect', () => {
      this.isConnected = true;
    });
    socket.on('end', () => this.ended());
    socket.on('error', (error: Error) => {
      if (this.user !== undefined && !this.hasAnswered && isUnreadReset(error)) markRequestUnread(error);
      this.closed(error);
    });
    socket.on('close', () => this.closed(resetError('the upstream connection closed')));
    this.socket = socket;
  }

  /** A user takes the connection for one exchange. */
  take(user: UpstreamUser): void {
    this.user = user;
    this.hasAnswered = false;
  }

  /** `bytes` were read into READ_BUFFER. True: reading goes on (the user pauses the socket itself). */
  private received(bytes: number): boolean {
    const { user } = this;
    // Bytes nobody asked for (an idle connection): the upstream is out of step, never reuse it.
    if (user === undefined) this.destroy();
    else {
      this.hasAnswered = true;
      user.onUpstreamData(READ_BUFFER.subarray(0, bytes));
    }
    return true;
  }

  /**
   * The upstream's FIN. Unanswered, it may be the app closing the connection (for idleness, or
   * shutting down) just as our request went out: the RST that our request then
   * meets tells so (see `isUnreadReset`), so the close waits for the socket's own end (Node
   * ends our side at once) and reports whichever comes first, the RST or the clean close.
   */
  private ended(): void {
    if (this.user !== undefined && !this.hasAnswered) return;
    this.closed(new UpstreamClosedError('the upstream closed the connection', true));
  }

  /** Closes the connection for good (a user still attached is told). */
  destroy(error?: Error): void {
    this.socket.destroy();
    this.closed(error ?? resetError('the upstream connection was closed by the proxy'));
  }

  /** Gives up a connection that did not connect in time. */
  timeOut(): void {
    // Coded like undici's, so the strict lane's failure rules apply unchanged.
    this.destroy(new CutoverError('UND_ERR_CONNECT_TIMEOUT', 'connecting to the upstream timed out'));
  }

  private closed(error: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.destroy();
    this.pool.forget(this);
    const { user } = this;
    this.user = undefined;
    user?.onUpstreamClosed(error);
  }
}

/**
 * The fast lane's keep-alive connections to one upstream endpoint: idle ones are reused most
 * recently used first (the warmest), and closed after their idle time; a new one is opened
 * whenever none is idle.
 */
export class RawUpstreamPool {
  private readonly idle: UpstreamConnection[] = [];
  private readonly connecting = new Set<UpstreamConnection>();
  private isClosed = false;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly connectTimeoutMs: number,
  ) {}

  /**
   * A connection for `user`: an idle one still within its idle time (the clock is checked here
   * too, as the sweep runs only every so often), or a new one.
   */
  acquire(user: UpstreamUser): UpstreamConnection {
    let connection = this.idle.pop();
    while (connection !== undefined && connection.deadline <= performance.now()) {
      connection.destroy();
      connection = this.idle.pop();
    }
    if (connection === undefined) {
      connection = new UpstreamConnection(this, this.host, this.port, this.connectTimeoutMs);
      if (!connection.isConnected) this.connecting.add(connection);
    }
    connection.take(user);
    return connection;
  }

  /**
   * The user is done with the connection: back to the pool for `idleMs` when the exchange
   * left it clean and the upstream keeps it, else closed.
   */
  release(connection: UpstreamConnection, isReusable: boolean, idleMs: number): void {
    connection.user = undefined;
    this.connecting.delete(connection);
    if (!isReusable || this.isClosed || idleMs <= 0 || connection.socket.destroyed) {
      connection.destroy();
      return;
    }
    connection.deadline = performance.now() + idleMs;
    this.idle.push(connection);
  }

  /** Closes idle connections past their time and connections that did not connect in time. */
  sweep(now: number): void {
    for (const connection of this.connecting) {
      if (connection.isConnected) this.connecting.delete(connection);
      else if (connection.deadline <= now) connection.timeOut();
    }
    // Oldest first: the front of the stack idled longest.
    while (this.idle.length > 0 && this.idle[0]!.deadline <= now) this.idle[0]!.destroy();
  }

  /** Called by a connection that closed: it is no longer idle or connecting. */
  forget(connection: UpstreamConnection): void {
    this.connecting.delete(connection);
    const index = this.idle.indexOf(connection);
    if (index !== -1) this.idle.splice(index, 1);
  }

  /** Nothing to sweep: no connection idle or connecting. */
  get isQuiet(): boolean {
    return this.idle.length === 0 && this.connecting.size === 0;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Closes idle connections now; those in use close when their exchange ends. */
  close(): void {
    this.isClosed = true;
    for (const connection of [...this.idle]) connection.destroy();
  }

  /** Closes every connection, in use or not. */
  destroy(): void {
    this.close();
    for (const connection of [...this.connecting]) connection.destroy();
  }
}

/**
 * The upstream connection closed under an exchange. Coded as a reset for the retry rules;
 * `isOrderlyEnd` tells a FIN from the upstream (which ends a body delimited by the close).
 */
export class UpstreamClosedError extends CutoverError {
  constructor(
    message: string,
    readonly isOrderlyEnd = false,
  ) {
    super('ECONNRESET', message);
  }
}

function resetError(message: string): Error {
  return new UpstreamClosedError(message);
}
