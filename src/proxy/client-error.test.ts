import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { clientErrorStatus, handleClientError } from './client-error.js';
import { sendErrorResponse } from './error-response.js';

/**
 * Sends `bytes` in one write, then, before reading anything, a byte more twice, as a slow or
 * busy client does; then reads what comes back until the server closes. A server that closed
 * at once answers the first byte with a reset, the second write fails, and the client loses
 * the answer it had not read yet.
 */
function exchange(port: number, bytes: string): Promise<{ answer: string; error: string | undefined }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    let error: string | undefined;
    socket.pause();
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
    socket.on('close', () => resolve({ answer, error }));
    socket.on('connect', () => {
      socket.write(bytes);
      setTimeout(() => socket.write('x'), 100);
      setTimeout(() => socket.write('y'), 150);
      setTimeout(() => socket.resume(), 200);
    });
  });
}

describe('client errors', () => {
  test('a parse error after a complete error response in the same read lets that response out, then closes', async () => {
    // The request is refused (Connection: close) and the bytes after it make Node's parser fail
    // in the same read. Destroying the socket then made the client's next write fail with a
    // reset, losing the refusal (the hostile-request corpus saw it on a loaded CI machine).
    let refused = 0;
    let parseErrors = 0;
    const server = createServer((_req, res) => {
      refused += 1;
      sendErrorResponse(res, 400, 'refused');
    });
    server.on('clientError', (error: Error, socket: Socket) => {
      parseErrors += 1;
      handleClientError(error, socket, 8_192);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal(refused, 1, 'the first request reached the handler');
      assert.ok(parseErrors >= 1, 'the bytes after it made the parser fail');
      assert.match(result.answer, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nrefused\n$/);
      assert.equal(result.error, undefined, 'closed with a FIN, not a reset');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('maps parser errors to statuses, and resets to no answer', () => {
    assert.equal(clientErrorStatus(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }), 8_192), 400);
    assert.equal(clientErrorStatus(Object.assign(new Error('x'), { code: 'HPE_HEADERS_TIMEOUT' }), 8_192), 408);
    assert.equal(clientErrorStatus(Object.assign(new Error('x'), { code: 'HPE_HEADER_OVERFLOW' }), 8_192), 431);
    assert.equal(clientErrorStatus(Object.assign(new Error('x'), { code: 'ECONNRESET' }), 8_192), undefined);
  });
});
