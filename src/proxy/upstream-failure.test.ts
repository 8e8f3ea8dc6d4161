import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyUpstreamFailure, failureStatus, isConnectionReset, isIdempotentMethod, isUnreadReset, markRequestUnread } from './upstream-failure.js';

function coded(code: string): Error {
  return Object.assign(new Error(code), { code });
}

describe('upstream failures', () => {
  test('any failure before undici started writing the request means nothing was sent', () => {
    for (const code of ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'EHOSTUNREACH']) {
      assert.equal(classifyUpstreamFailure(coded(code), false), 'not-sent', code);
    }
  });

  test('an RST on a connection that already carried an exchange marks the request unread, a FIN or a first exchange does not', () => {
    assert.equal(isUnreadReset(coded('ECONNRESET')), true);
    assert.equal(isUnreadReset(coded('EPIPE')), true);
    assert.equal(isUnreadReset(coded('UND_ERR_SOCKET')), false, 'a FIN: the app may have read the request');
    const error = coded('ECONNRESET');
    markRequestUnread(error);
    assert.equal(classifyUpstreamFailure(error, true), 'not-sent');
  });

  test('a reset or close after writing started is a reset, a head timeout a timeout, anything else a failure', () => {
    assert.equal(classifyUpstreamFailure(coded('ECONNRESET'), true), 'reset');
    assert.equal(classifyUpstreamFailure(coded('UND_ERR_SOCKET'), true), 'reset');
    assert.equal(classifyUpstreamFailure(coded('EPIPE'), true), 'reset');
    assert.equal(classifyUpstreamFailure(coded('UND_ERR_HEADERS_TIMEOUT'), true), 'timeout');
    assert.equal(classifyUpstreamFailure(coded('HPE_INVALID_CONSTANT'), true), 'failed');
    assert.equal(classifyUpstreamFailure(new Error('no code'), true), 'failed');
  });

  test("a request undici cannot send as it is counts as the client's fault, whenever it fails", () => {
    assert.equal(classifyUpstreamFailure(coded('UND_ERR_INVALID_ARG'), false), 'bad-request');
    assert.equal(classifyUpstreamFailure(coded('UND_ERR_NOT_SUPPORTED'), true), 'bad-request');
    assert.equal(failureStatus('bad-request', coded('UND_ERR_INVALID_ARG')), 400);
  });

  test('timeouts map to 504, everything else to 502', () => {
    assert.equal(failureStatus('timeout', coded('UND_ERR_HEADERS_TIMEOUT')), 504);
    assert.equal(failureStatus('not-sent', coded('UND_ERR_CONNECT_TIMEOUT')), 504);
    assert.equal(failureStatus('not-sent', coded('ECONNREFUSED')), 502);
    assert.equal(failureStatus('reset', coded('ECONNRESET')), 502);
  });

  test('only resets of an established connection may send a retry back to an endpoint already tried', () => {
    assert.equal(isConnectionReset(coded('ECONNRESET')), true);
    assert.equal(isConnectionReset(coded('UND_ERR_SOCKET')), true);
    assert.equal(isConnectionReset(coded('ECONNREFUSED')), false);
    assert.equal(isConnectionReset(coded('UND_ERR_CONNECT_TIMEOUT')), false);
  });

  test('GET, HEAD, OPTIONS and TRACE are idempotent; POST, PUT, PATCH and DELETE are not retried after sending', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) assert.equal(isIdempotentMethod(method), true, method);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', undefined]) assert.equal(isIdempotentMethod(method), false, method);
  });
});
