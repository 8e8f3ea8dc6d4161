import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { clientResponseHeaders, connectionListedHeaders, sanitizeRequestHead, upstreamRequestHeaders } from './forwarded-headers.js';
import { withoutOwnCookies } from './own-cookies.js';
import { group, LOOPBACK, makePlan, startProxy, startUpstream } from '../../test/helpers/proxy-fixtures.js';

function fakeRequest(rawHeaders: string[], remoteAddress = '10.0.0.7'): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    headers[name] = headers[name] === undefined ? rawHeaders[i + 1]! : `${headers[name]}, ${rawHeaders[i + 1]}`;
  }
  return { rawHeaders, headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

function pairs(flat: (string | string[])[]): [string, string | string[]][] {
  const result: [string, string | string[]][] = [];
  for (let i = 0; i < flat.length; i += 2) result.push([flat[i] as string, flat[i + 1]!]);
  return result;
}

describe('forwarded headers', () => {
  test('headers named in Connection are hop-by-hop; close, keep-alive and upgrade add nothing', () => {
    assert.equal(connectionListedHeaders(undefined), undefined);
    assert.equal(connectionListedHeaders('keep-alive'), undefined);
    assert.deepEqual(connectionListedHeaders('Keep-Alive, X-Secret ,close,  X-Other'), ['x-secret', 'x-other']);
    assert.deepEqual(connectionListedHeaders(['upgrade', 'X-A']), ['x-a']);
  });

  test('request headers lose hop-by-hop, Connection-named and mirror-marker headers, keep Host, and get X-Forwarded-* from the socket', () => {
    const req = fakeRequest([
      'Host',
      'shop.example',
      'Connection',
      'keep-alive, X-Secret',
      'X-Secret',
      'hunter2',
      'Keep-Alive',
      'timeout=5',
      'Proxy-Authorization',
      'Basic abc',
      'TE',
      'trailers',
      'Upgrade',
      'h2c',
      'Expect',
      '100-continue',
      'X-Forwarded-For',
      '6.6.6.6',
      'x-forwarded-proto',
      'https',
      'X-Forwarded-Host',
      'evil.example',
      'Forwarded',
      'for=6.6.6.6',
      'X-Cutover-Mirror',
      '1',
      'Accept',
      'text/html',
      'Cookie',
      'a=1',
    ]);
    assert.deepEqual(pairs(upstreamRequestHeaders(req)), [
      ['Host', 'shop.example'],
      ['Accept', 'text/html'],
      ['Cookie', 'a=1'],
      ['x-forwarded-for', '10.0.0.7'],
      ['x-forwarded-proto', 'http'],
      ['x-forwarded-host', 'shop.example'],
    ]);
  });

  test("issue 22: a client's X-Real-IP is dropped unless the peer is a trusted proxy", () => {
    const raw = ['Host', 'a', 'X-Real-IP', '6.6.6.6'];
    assert.deepEqual(
      pairs(sanitizeRequestHead(raw, '10.0.0.7', false).headers).filter(([name]) => /real-ip/i.test(name)),
      [],
    );
    assert.deepEqual(
      pairs(sanitizeRequestHead(raw, '10.0.0.7', true).headers).filter(([name]) => /real-ip/i.test(name)),
      [['X-Real-IP', '6.6.6.6']],
    );
  });

  test("issue 22: cutover's own session cookie never reaches an app; the other cookies do, as sent", () => {
    assert.equal(withoutOwnCookies('cutover_session=1.abc'), undefined);
    assert.equal(withoutOwnCookies('theme=dark; cutover_session=1.abc; lang=en'), 'theme=dark; lang=en');
    assert.equal(withoutOwnCookies(' cutover_session = 1.abc ;lang=en'), 'lang=en');
    assert.equal(withoutOwnCookies('my_cutover_session=1; lang=en'), 'my_cutover_session=1; lang=en');
    const sent = (raw: string[]): [string, string | string[]][] =>
      pairs(sanitizeRequestHead(raw, '10.0.0.7', true).headers).filter(([name]) => name.toLowerCase() === 'cookie');
    assert.deepEqual(sent(['Host', 'a', 'Cookie', 'cutover_session=1.abc', 'Cookie', 'a=1']), [['Cookie', 'a=1']]);
    assert.deepEqual(sent(['Host', 'a', 'Cookie', 'a=1; cutover_session=1.abc']), [['Cookie', 'a=1']]);
    assert.deepEqual(sent(['Host', 'a', 'Cookie', 'a=1;  b=2']), [['Cookie', 'a=1;  b=2']]);
  });

  test('response headers lose hop-by-hop and Connection-named headers and keep repeated ones', () => {
    const headers = clientResponseHeaders({
      connection: 'keep-alive, x-internal',
      'keep-alive': 'timeout=5',
      'x-internal': 'node-7',
      'transfer-encoding': 'chunked',
      'proxy-authenticate': 'Basic',
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
    });
    assert.deepEqual(pairs(headers), [
      ['content-type', 'text/plain'],
      ['set-cookie', ['a=1', 'b=2']],
    ]);
  });

  test('through the proxy, spoofed X-Forwarded-* are overwritten and Connection-named headers are stripped both ways', async () => {
    const upstream = await startUpstream((req, res) => {
      const body = JSON.stringify({ headers: req.headers });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        connection: 'x-internal',
        'x-internal': 'node-7',
        'proxy-authenticate': 'Basic',
      });
      res.end(body);
    });
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    const socket = connect({ host: LOOPBACK, port: proxy.port });
    try {
      await once(socket, 'connect');
      // Connection: close makes the proxy close after the response; the client keeps its
      // write side open (Node's server drops requests of half-closed clients).
      socket.write(
        'GET /path?q=1 HTTP/1.1\r\n' +
          'Host: shop.example:8080\r\n' +
          'Connection: close, X-Secret\r\n' +
          'X-Secret: hunter2\r\n' +
          'X-Forwarded-For: 6.6.6.6\r\n' +
          'X-Forwarded-Proto: https\r\n' +
          'X-Forwarded-Host: evil.example\r\n' +
          'Proxy-Authorization: Basic abc\r\n' +
          'X-Real-IP: 6.6.6.6\r\n' +
          'Cookie: cutover_session=99.stolen; theme=dark\r\n' +
          'X-Kept: yes\r\n\r\n',
      );
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      await once(socket, 'close');
      const response = Buffer.concat(chunks).toString();
      const [head, body] = response.split('\r\n\r\n', 2) as [string, string];
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(head, /x-internal/i);
      assert.doesNotMatch(head, /proxy-authenticate/i);

      const seen = JSON.parse(body) as { headers: Record<string, string> };
      assert.equal(seen.headers.host, 'shop.example:8080');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-forwarded-host'], 'shop.example:8080');
      assert.equal(seen.headers['x-kept'], 'yes');
      assert.equal(seen.headers['x-secret'], undefined);
      assert.equal(seen.headers['proxy-authorization'], undefined);
      assert.equal(seen.headers['x-real-ip'], undefined);
      assert.equal(seen.headers.cookie, 'theme=dark');
    } finally {
      socket.destroy();
      await proxy.close();
      await upstream.close();
    }
  });
});
