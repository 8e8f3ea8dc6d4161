import type { Socket } from 'node:net';

/**
 * How long a connection closed after an error keeps reading (and dropping) what the client
 * still sends. Closing at once while the client is still sending makes the kernel answer with
 * a reset, which can destroy the error response before the client reads it (the "lingering
 * close" of nginx and HAProxy).
 */
export const LINGER_AFTER_ERROR_MS = 2_000;

/**
 * Closes a socket gracefully: our side ends (FIN after what was written), what the client
 * still sends is read and dropped, and the socket is destroyed when the client closes too or
 * after `LINGER_AFTER_ERROR_MS`. With `isDeferred`, only prepares Node's own close after the
 * current response (its `destroySoon`) to linger this way.
 */
export function closeLingering(socket: Socket, isDeferred = false): void {
  if (isDeferred) {
    socket.destroySoon = () => closeLingering(socket);
    return;
  }
  if (socket.destroyed || socket.writableEnded) return;
  // Node's own close after the response in flight would destroy the socket at once: this one replaces it.
  socket.destroySoon = ignore;
  socket.end();
  socket.on('error', ignore);
  const timer = setTimeout(() => socket.destroy(), LINGER_AFTER_ERROR_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function ignore(): void {}
