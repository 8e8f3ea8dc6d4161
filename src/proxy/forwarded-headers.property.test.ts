/**
 * Property-based tests (fast-check) of the request header sanitiser: whatever headers a client
 * sends, the upstream never gets a hop-by-hop header, a header named in Connection, or a
 * forwarding header the client made up (unless the peer is trusted); everything else passes in
 * order with its spelling.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { HOP_BY_HOP_HEADERS, sanitizeRequestHead } from './forwarded-headers.js';

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~";
const SPECIAL_NAMES = [
  'Connection',
  'connection',
  'Keep-Alive',
  'Proxy-Connection',
  'TE',
  'Trailer',
  'Transfer-Encoding',
  'Upgrade',
  'Proxy-Authorization',
  'Proxy-Authenticate',
  'X-Forwarded-For',
  'x-forwarded-proto',
  'X-Forwarded-Host',
  'Forwarded',
  'Host',
  'Expect',
  'HTTP2-Settings',
  'X-Hop',
  'x-hop',
  'Content-Length',
  'Cookie',
  'Accept',
];
const name = fc.oneof(fc.constantFrom(...SPECIAL_NAMES), fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 20 }));
const value = fc.oneof(
  fc.constantFrom('keep-alive', 'close', 'X-Hop', 'x-hop, keep-alive', 'Upgrade, X-Forwarded-For', '6.6.6.6', 'chunked'),
  fc.string({ unit: fc.constantFrom(...' abcXYZ019,;=-_./:'), maxLength: 30 }),
);
const headerList = fc.array(fc.tuple(name, value), { maxLength: 30 }).map((pairs) => pairs.flat());
const address = fc.constantFrom('10.0.0.7', '127.0.0.1', '::1', '::ffff:192.0.2.1');

function connectionNames(raw: string[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') for (const token of raw[i + 1]!.split(',')) names.add(token.trim().toLowerCase());
  }
  return names;
}

function namesOf(flat: string[]): string[] {
  return flat.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

describe('request header sanitising (properties)', () => {
  test('no hop-by-hop header and no header named in Connection reaches the upstream', () => {
    fc.assert(
      fc.property(headerList, address, fc.boolean(), (raw, peer, isTrusted) => {
        const sent = namesOf(sanitizeRequestHead(raw, peer, isTrusted).headers);
        const listed = connectionNames(raw);
        for (const n of sent) {
          assert.ok(!HOP_BY_HOP_HEADERS.has(n), `${n} is hop-by-hop`);
          assert.ok(n !== 'expect' && n !== 'http2-settings', `${n} is dropped`);
          if (n !== 'x-forwarded-for' && n !== 'x-forwarded-proto' && n !== 'x-forwarded-host' && n !== 'host') {
            assert.ok(!listed.has(n), `${n} is named in Connection`);
          }
        }
      }),
    );
  });

  test('from an untrusted peer, X-Forwarded-For is exactly the peer address and Forwarded is gone', () => {
    fc.assert(
      fc.property(headerList, address, (raw, peer) => {
        const sent = sanitizeRequestHead(raw, peer, false).headers;
        const forwardedFor = sent.filter((_, i) => i % 2 === 1 && sent[i - 1]!.toLowerCase() === 'x-forwarded-for');
        assert.deepEqual(forwardedFor, [peer]);
        assert.equal(namesOf(sent).filter((n) => n === 'x-forwarded-proto').length, 1);
        assert.ok(!namesOf(sent).includes('forwarded'));
      }),
    );
  });

  test('from a trusted peer, X-Forwarded-For keeps what came and ends with the peer address', () => {
    fc.assert(
      fc.property(headerList, address, (raw, peer) => {
        const sent = sanitizeRequestHead(raw, peer, true).headers;
        const forwardedFor = sent.filter((_, i) => i % 2 === 1 && sent[i - 1]!.toLowerCase() === 'x-forwarded-for');
        assert.equal(forwardedFor.length, 1);
        assert.ok(forwardedFor[0]!.endsWith(peer));
      }),
    );
  });

  test('every other header passes unchanged and in order', () => {
    fc.assert(
      fc.property(headerList, address, (raw, peer) => {
        const sent = sanitizeRequestHead(raw, peer, false).headers;
        const listed = connectionNames(raw);
        const dropped = new Set([...HOP_BY_HOP_HEADERS, 'expect', 'http2-settings', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);
        const expected: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
          const lower = raw[i]!.toLowerCase();
          if (dropped.has(lower) || (lower !== 'host' && listed.has(lower))) continue;
          expected.push(raw[i]!, raw[i + 1]!);
        }
        assert.deepEqual(sent.slice(0, expected.length), expected);
      }),
    );
  });

  test('the header byte count and Host count match the input', () => {
    fc.assert(
      fc.property(headerList, (raw) => {
        const head = sanitizeRequestHead(raw, '10.0.0.1', false);
        let bytes = 0;
        let hosts = 0;
        for (let i = 0; i < raw.length; i += 2) {
          bytes += raw[i]!.length + raw[i + 1]!.length + 4;
          if (raw[i]!.toLowerCase() === 'host') hosts++;
        }
        assert.equal(head.headerBytes, bytes);
        assert.equal(head.hostCount, hosts);
      }),
    );
  });
});
