import { STATUS_CODES } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { closeLingering } from '../util/lingering-close.js';

/** Body of the 503 sent when an app's plan has no endpoint that can take traffic. */
export function noUpstreamMessage(app: string): string {
  return `no healthy upstream for app "${app}"`;
}

/** Body of the 503 sent when a request is pinned to a revision (a preview listener) that has no endpoint. */
export function noRevisionUpstreamMessage(app: string, revision: number): string {
  return `no healthy upstream for revision ${revision} of app "${app}"`;
}

export const UPSTREAM_FAILED_MESSAGE = 'upstream failed';
export const UPSTREAM_TIMEOUT_MESSAGE = 'upstream timed out';

/**
 * Answers a client with a short text/plain error and `Connection: close`, so that nothing
 * queued behind the failed request on the same connection is processed. Does nothing when
 * the response already started.
 */
export function sendErrorResponse(res: ServerResponse, statusCode: number, message: string): void {
  if (res.headersSent || res.destroyed) return;
  if (isHttp2Response(res)) {
    // HTTP/2: only this stream ends; the connection and its other streams go on.
    const body = `${message}\n`;
    res.writeHead(statusCode, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
    return;
  }
  // Node closes the connection once this response is written; let it linger instead.
  if (res.socket !== null) closeLingering(res.socket, true);
  const body = `${message}\n`;
  res.writeHead(statusCode, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'connection', 'close']);
  res.end(body);
}

/** True for a response of Node's HTTP/2 compatibility API (it has a stream, not a socket of its own). */
export function isHttp2Response(res: ServerResponse): boolean {
  return 'stream' in res;
}

/** The same error on a raw socket (an upgrade request), then closes the socket. */
export function writeRawErrorResponse(socket: Socket, statusCode: number, message: string): void {
  if (socket.destroyed) return;
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}\r\n` +
      'content-type: text/plain; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
  closeLingering(socket);
}
