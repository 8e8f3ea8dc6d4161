import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { closeLingering } from '../util/lingering-close.js';

/**
 * What the proxy answers when Node's HTTP parser (llhttp, strict) refuses what a client sent,
 * or a client is too slow to send its request head. The answer carries `Connection: close`
 * and the socket is closed after it, so nothing after the bad bytes is ever parsed.
 */

/** A parser error as Node reports it on the server's `clientError` event. */
interface ClientError extends Error {
  code?: string;
  rawPacket?: Buffer;
}

/** Looks like the start of a request line: a method token, a space, a target. */
const REQUEST_LINE_START = /^[A-Z]{3,16} [^\s]/;

/** The status for a parser error; undefined when the connection is only to be dropped. */
export function clientErrorStatus(error: ClientError, maxRequestLineBytes: number): number | undefined {
  switch (error.code) {
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_STREAM_DESTROYED':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return isLongRequestLine(error.rawPacket, maxRequestLineBytes) ? 414 : 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

/**
 * Best effort: the head overflowed while still in the request line when the bytes seen (the
 * last chunk read) start like a request line and hold no line end within the limit.
 */
function isLongRequestLine(packet: Buffer | undefined, maxRequestLineBytes: number): boolean {
  if (packet === undefined || packet.length <= maxRequestLineBytes) return false;
  if (!REQUEST_LINE_START.test(packet.subarray(0, 24).toString('latin1'))) return false;
  const lineEnd = packet.indexOf(10 /* \n */);
  return lineEnd === -1 || lineEnd > maxRequestLineBytes;
}

/** The server's `clientError` handler: answer once if nothing was sent yet, then close. */
export function handleClientError(error: ClientError, socket: Socket, maxRequestLineBytes: number, onError?: (status: number | undefined) => void): void {
  // Already answered and lingering: the parser reports the same error again for what follows.
  if (socket.writableEnded) return;
  const status = clientErrorStatus(error, maxRequestLineBytes);
  onError?.(status);
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean; writableEnded?: boolean } | null })._httpMessage;
  if (pending?.headersSent && pending.writableEnded) {
    // A whole response is on its way (a refusal with `Connection: close`, or a keep-alive
    // answer followed by garbage): let it out, then close without a reset.
    closeLingering(socket);
    return;
  }
  if (status === undefined || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const body = `${STATUS_CODES[status]?.toLowerCase() ?? 'bad request'}\n`;
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'content-type: text/plain; charset=utf-8\r\n' +
      `content-length: ${body.length}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
  closeLingering(socket);
}
