import { connect, type Socket } from 'node:net';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** One response as the raw client read it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawExchange {
  /** Final (non-1xx) responses, in order. */
  responses: RawResponse[];
  /** The proxy closed the connection. */
  isClosed: boolean;
  /** Bytes that did not parse as responses (should stay empty). */
  garbage: string;
}

export interface RawSendOptions {
  /** Bytes per write; 1 sends byte by byte. */
  chunkBytes?: number;
  /** How many final responses to wait for. */
  responses: number;
  /** Wait for the proxy to close the connection after them (else probe that it still works). */
  expectClose: boolean;
  /** When expecting it to stay open: a request to send after, whose answer is counted too. */
  probe?: string;
  /** Half-closes the connection after sending (the client goes away). */
  halfClose?: boolean;
  /** Gives up waiting after this long (a safety net, not a timing assertion). */
  deadlineMs?: number;
}

/**
 * Sends exact bytes on a raw TCP connection, in small writes, and reads back the responses
 * (status, headers, Content-Length bodies; 1xx skipped) and whether the connection closes.
 */
export async function rawExchange(port: number, bytes: Buffer, options: RawSendOptions): Promise<RawExchange> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  const reader = new ResponseReader(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const chunkBytes = options.chunkBytes ?? 1;
  // A client stops sending once the proxy said it closes (FIN): bytes sent after that only
  // earn a reset.
  for (let offset = 0; offset < bytes.length && !reader.isEnded && !reader.isClosed; offset += chunkBytes) {
    if (!socket.write(bytes.subarray(offset, offset + chunkBytes))) await reader.drainOrClose();
    // Give the proxy a chance to read each piece on its own.
    if (chunkBytes < 64 ? true : offset % (64 * chunkBytes) === 0) await yieldToLoop();
  }
  if (options.halfClose) socket.end();
  const deadline = performance.now() + (options.deadlineMs ?? 5_000);
  await reader.until(() => reader.responses.length >= options.responses || reader.isClosed || reader.isEnded, deadline);
  if (options.expectClose) {
    await reader.until(() => reader.isClosed || reader.isEnded, deadline);
  } else if (options.probe !== undefined && !reader.isClosed) {
    const wanted = reader.responses.length + 1;
    socket.write(options.probe);
    await reader.until(() => reader.responses.length >= wanted || reader.isClosed, deadline);
  }
  const result = { responses: reader.responses, isClosed: reader.isClosed || reader.isEnded, garbage: reader.garbage };
  socket.destroy();
  return result;
}

class ResponseReader {
  readonly responses: RawResponse[] = [];
  isClosed = false;
  /** The proxy half-closed (sent FIN). */
  isEnded = false;
  garbage = '';
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
      this.wake();
    });
    socket.once('end', () => {
      this.isEnded = true;
      this.wake();
    });
    socket.once('close', () => {
      this.isClosed = true;
      if (this.buffer.length > 0) this.garbage += this.buffer.toString('latin1');
      this.buffer = Buffer.alloc(0);
      this.wake();
    });
  }

  drainOrClose(): Promise<void> {
    if (this.socket.destroyed || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  async until(condition: () => boolean, deadline: number): Promise<void> {
    while (!condition()) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private parse(): void {
    for (;;) {
      const headEnd = this.buffer.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const lines = this.buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
      if (!status) {
        this.garbage += this.buffer.toString('latin1');
        this.buffer = Buffer.alloc(0);
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const code = Number(status[1]);
      const length = code < 200 || code === 204 || code === 304 ? 0 : Number(headers['content-length'] ?? 0);
      if (this.buffer.length < headEnd + 4 + length) return;
      const body = this.buffer.subarray(headEnd + 4, headEnd + 4 + length).toString('latin1');
      this.buffer = this.buffer.subarray(headEnd + 4 + length);
      if (code >= 200) this.responses.push({ status: code, headers, body });
    }
  }
}
