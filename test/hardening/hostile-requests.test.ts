/**
 * The hostile-input corpus (hostile-requests.ts) against a proxy in its own process, sent from
 * a raw socket twice: byte by byte (each vector's own piece size), which Node's strict parser
 * sees, and in one write, which the fast lane sees first (it must hand every vector it does not
 * fully understand to the strict lane, so the answers are the same), with a sentinel upstream recording what gets through. Every
 * vector must get its expected answer and connection behaviour; the upstream must see no
 * smuggled request, no hop-by-hop or spoofed header; the proxy must neither crash nor report
 * an unhandled error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HOSTILE_REQUESTS, TEST_MAX_BODY_BYTES } from './hostile-requests.js';
import { startProxyChild, type ProxyChild } from './proxy-child-process.js';
import { rawExchange } from './raw-exchange.js';
import { SentinelUpstream } from './sentinel-upstream.js';

const PROBE = 'GET /probe HTTP/1.1\r\nHost: app.test\r\n\r\n';
const MIN_VECTORS = 150;

for (const mode of ['byte by byte', 'in one write'] as const)
  describe(`hostile requests, ${mode}`, () => {
    let sentinel: SentinelUpstream;
    let proxy: ProxyChild;

    before(async () => {
      sentinel = await SentinelUpstream.start();
      proxy = await startProxyChild(sentinel.port, { maxBodyBytes: TEST_MAX_BODY_BYTES });
    });

    after(async () => {
      await proxy?.stop();
      await sentinel?.close();
    });

    test(`the corpus holds at least ${MIN_VECTORS} vectors`, () => {
      assert.ok(HOSTILE_REQUESTS.length >= MIN_VECTORS, `only ${HOSTILE_REQUESTS.length}`);
    });

    for (const vector of HOSTILE_REQUESTS) {
      const expected = vector.statuses.map((s) => (Array.isArray(s) ? s.join('|') : String(s))).join(', ') || 'no answer';
      test(`[${vector.group}] ${vector.name}: ${expected}, ${vector.closes ? 'closes' : 'stays open'}`, async () => {
        const from = sentinel.seen.length;
        const result = await rawExchange(proxy.port, Buffer.from(vector.bytes, 'latin1'), {
          chunkBytes: mode === 'in one write' ? vector.bytes.length : (vector.chunkBytes ?? 1),
          responses: vector.statuses.length,
          expectClose: vector.closes,
          probe: vector.closes ? undefined : PROBE,
          halfClose: vector.halfClose,
        });
        const statuses = result.responses.map((r) => r.status);
        const answered = vector.closes ? statuses : statuses.slice(0, -1);
        assert.equal(answered.length, vector.statuses.length, `statuses ${JSON.stringify(statuses)}, garbage ${JSON.stringify(result.garbage)}`);
        vector.statuses.forEach((want, i) => {
          const wanted = Array.isArray(want) ? want : [want];
          assert.ok(wanted.includes(answered[i]!), `response ${i + 1}: got ${answered[i]}, expected ${wanted.join(' or ')} (all: ${JSON.stringify(statuses)})`);
        });
        assert.equal(result.isClosed, vector.closes, vector.closes ? 'the proxy should close the connection' : 'the connection should stay open');
        if (!vector.closes) assert.equal(statuses.at(-1), 200, 'a probe on the same connection is answered');
        assert.equal(result.garbage, '', 'nothing but whole responses came back');
        const requests = sentinel.requests(from);
        const allowed = vector.upstream ?? vector.statuses.filter((s) => s === 200).length;
        if (allowed !== 'any') assert.equal(requests.length, allowed, `the upstream saw ${JSON.stringify(requests.map((r) => `${r.method} ${r.url}`))}`);
        assert.deepEqual(sentinel.violations(from), []);
      });
    }

    test('the upstream saw nothing it should not have, and the proxy neither crashed nor reported an unhandled error', () => {
      assert.deepEqual(sentinel.violations(), []);
      assert.equal(proxy.process.exitCode, null, `the proxy exited: ${proxy.stderr()}`);
      assert.doesNotMatch(proxy.stderr(), /UNHANDLED/);
    });
  });
