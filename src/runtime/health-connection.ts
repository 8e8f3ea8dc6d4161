import net from 'node:net';
import { HealthResponseReader, type ReadStep } from './health-response-reader.js';

export interface ProbeResult {
  isHealthy: boolean;
  /** What happened, for reasons and events: "HTTP 200", "HTTP 503", "connect ECONNREFUSED 127.0.0.1:4000", "timeout after 1000ms". */
  detail: string;
}

/** One answer, and whether the request failed on a kept connection before any answer came (the app may have closed it meanwhile). */
export interface Attempt {
  result: ProbeResult;
  isLostReusedConnection: boolean;
}

/** Each read lands here and is taken at once; an answer's head is well within it. */
const readBuffer = Buffer.alloc(16 * 1024);

/** The check in flight on a connection. */
interface Exchange {
  readonly reader: HealthResponseReader;
  readonly timer: NodeJS.Timeout;
  readonly isReused: boolean;
  readonly resolve: (attempt: Attempt) => void;
}

/**
 * One TCP connection to an instance that carries its health checks, one at a time: a fixed GET
 * written in one piece, and the answer read by a `HealthResponseReader` (bounded, untrusted). It
 * stays usable while the app keeps it alive and answers exactly what was asked: anything the app
 * sends between checks, an answer the reader cannot frame, a close or an error ends it.
 */
export class HealthConnection {
  private readonly socket: net.Socket;
  private exchange: Exchange | undefined;
  private hasCarriedCheck = false;
  /** After this (performance.now()), the app may be closing the idle connection: the next check opens a new one. */
  private idleUntilMs = Infinity;
  /** False once the connection cannot carry another check. */
  isUsable = true;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    // Reads land in one buffer shared by every connection (the reader copies what it keeps):
    // no buffer allocated per read, and no trip through the socket's readable stream.
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (bytes) => {
          this.onData(readBuffer.subarray(0, bytes));
          return true;
        },
      },
    });
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.onError(error));
    this.socket.on('close', () => this.onClose());
  }

  /** Sends one check; resolves with its answer, or how it failed within `timeoutMs` (the whole exchange, not each read). */
  send(request: Buffer, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.finish({ isHealthy: false, detail: `timeout after ${timeoutMs}ms` }, false), timeoutMs);
      this.exchange = { reader: new HealthResponseReader(), timer, isReused: this.hasCarriedCheck, resolve };
      this.hasCarriedCheck = true;
      this.socket.write(request);
    });
  }

  /** True while a check is out on this connection. */
  get isBusy(): boolean {
    return this.exchange !== undefined;
  }

  /** True when the next check may go over this connection. */
  canCarryCheck(nowMs: number): boolean {
    return this.isUsable && nowMs < this.idleUntilMs;
  }

  /** Ends the connection; a check in flight fails. */
  destroy(): void {
    this.isUsable = false;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const exchange = this.exchange;
    if (!exchange) {
      // Bytes nobody asked for: the next answer could not be told apart from them.
      this.destroy();
      return;
    }
    this.settle(exchange.reader.push(chunk));
  }

  private settle(step: ReadStep): void {
    if (step.kind === 'more') return;
    if (step.kind === 'invalid') {
      this.finish({ isHealthy: false, detail: `invalid HTTP answer: ${step.reason}` }, false);
      return;
    }
    const { status, isReusable } = step;
    // Like node:http's agent: an app that says it keeps idle connections N s is not sent a check
    // in its last second (it could close the connection as the check goes out).
    const keepAliveTimeoutMs = this.exchange?.reader.keepAliveTimeoutMs;
    if (keepAliveTimeoutMs !== undefined) this.idleUntilMs = performance.now() + keepAliveTimeoutMs - 1_000;
    this.finish({ isHealthy: status >= 200 && status < 400, detail: `HTTP ${status}` }, isReusable && keepAliveTimeoutMs !== 0);
  }

  /** The app closed its side: an answer whose body runs until the close is complete now. */
  private onEnd(): void {
    this.isUsable = false;
    const step = this.exchange?.reader.closed();
    if (step) this.settle(step);
  }

  private onError(error: NodeJS.ErrnoException): void {
    const { code } = error;
    const detail = code ? `${code === 'ECONNREFUSED' ? 'connect ' : ''}${code} ${this.host}:${this.port}` : error.message;
    this.fail(detail, code === 'ECONNRESET' || code === 'EPIPE');
  }

  private onClose(): void {
    // Closed before the answer was complete, without an error of its own: as a reset.
    this.fail(`ECONNRESET ${this.host}:${this.port}`, true);
  }

  /** The connection ended under a check: a cut-off answer, or none (which on a reused connection may only mean the app closed it as the check went out). */
  private fail(detail: string, isCloseOrReset: boolean): void {
    this.isUsable = false;
    const exchange = this.exchange;
    if (!exchange) return;
    const { reader } = exchange;
    if (reader.status !== 0) {
      this.finish({ isHealthy: false, detail: `HTTP ${reader.status}, body cut off` }, false);
      return;
    }
    this.finish({ isHealthy: false, detail }, false, exchange.isReused && isCloseOrReset && !reader.hasStarted);
  }

  private finish(result: ProbeResult, isReusable: boolean, isLostReusedConnection = false): void {
    const exchange = this.exchange;
    if (!exchange) return;
    this.exchange = undefined;
    clearTimeout(exchange.timer);
    if (!isReusable) this.destroy();
    exchange.resolve({ result, isLostReusedConnection });
  }
}
