import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { send } from './helpers/proxy-fixtures.js';
import { givenDaemon, sampleAppConfig } from './helpers/daemon-fixture.js';

describe('the proxy: block of cutover.yaml reaches the proxy workers', () => {
  const daemon = givenDaemon((port) => `proxy:\n  maxRequestLineSize: 1KiB\n  maxHeaderSize: 2KiB\n${sampleAppConfig(port, { replicas: 1 })}`);

  test('a request within the configured limits is served', async () => {
    const res = await send(daemon().port);
    assert.equal(res.status, 200);
  });

  test('a request line over the configured 1KiB gets 414', async () => {
    const res = await send(daemon().port, { path: `/${'a'.repeat(1100)}` });
    assert.equal(res.status, 414);
  });

  test('headers over the configured 2KiB get 431', async () => {
    const res = await send(daemon().port, { headers: { 'x-big': 'b'.repeat(2100) } });
    assert.equal(res.status, 431);
  });
});
