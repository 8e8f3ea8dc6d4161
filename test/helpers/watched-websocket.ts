/**
 * A WebSocket a test watches until it closes (not a test file itself): its messages, and how and
 * when it ended, recorded as they happen.
 */
import { once } from 'node:events';
import { WebSocket, type ClientOptions } from 'ws';

export interface WatchedConnection {
  /** The close code, or what went wrong (a watcher of other kinds may record more). */
  outcome: string | undefined;
  /** performance.now() when it closed. */
  closedAt: number;
  messages: string[];
}

/** Opens a WebSocket to `url` that records into `watched`; resolves with it once open. */
export function watchWebSocket<T extends WatchedConnection>(watched: T, url: string, options?: ClientOptions): Promise<T> {
  const socket = new WebSocket(url, options);
  socket.on('message', (data: Buffer) => watched.messages.push(data.toString()));
  socket.on('error', (error) => (watched.outcome = `error ${error.message}`));
  socket.on('close', (code) => {
    watched.outcome ??= String(code);
    watched.closedAt = performance.now();
  });
  return once(socket, 'open').then(() => watched);
}
