import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import type { buildConnector as BuildConnector } from 'undici';
import { isUnreadReset, markRequestUnread } from './upstream-failure.js';

/** What the strict lane knows of one upstream socket: where its current request started. */
interface SocketWatch {
  /** `socket.bytesRead` when the current request's head went out: bytes read since are its response. */
  bytesReadAtSend: number;
}

const watches = new WeakMap<Socket, SocketWatch>();
const require = createRequire(import.meta.url);
let isSubscribed = false;

/**
 * undici's connector for the strict lane's pools (plain HTTP/1.1, HTTPS/1.1 and HTTP/2 requests),
 * with a watch on each socket that tells a request the app never read apart (the keep-alive race,
 * an app shutting down): a reset before any response byte of the current request marks the
 * error so the request goes again on a fresh connection, whatever its method (see `isUnreadReset`). undici reports each
 * request head it writes on the `undici:client:sendHeaders` channel, with its socket; the watch
 * is attached before undici's own listeners, so the error is marked before undici passes it on.
 */
export function createUpstreamConnector(connectTimeoutMs: number): BuildConnector.connector {
  if (!isSubscribed) {
    isSubscribed = true;
    subscribe('undici:client:sendHeaders', (message) => {
      const socket = (message as { socket?: Socket }).socket;
      const watch = socket === undefined ? undefined : watches.get(socket);
      if (watch === undefined) return;
      watch.bytesReadAtSend = socket!.bytesRead;
    });
  }
  // undici loads with the first pool that connects (see LazyPool), not with the worker.
  let connect: BuildConnector.connector | undefined;
  return (options, callback) => {
    connect ??= (require('undici') as { buildConnector: typeof BuildConnector }).buildConnector({ timeout: connectTimeoutMs });
    connect(options, (error, socket) => {
      if (error === null && socket) watchSocket(socket);
      (callback as (error: Error | null, socket: Socket | null) => void)(error, socket);
    });
  };
}

function watchSocket(socket: Socket): void {
  const watch: SocketWatch = { bytesReadAtSend: 0 };
  watches.set(socket, watch);
  socket.on('error', (error: Error) => {
    const isUnanswered = socket.bytesRead === watch.bytesReadAtSend;
    if (isUnanswered && isUnreadReset(error)) markRequestUnread(error);
  });
}
