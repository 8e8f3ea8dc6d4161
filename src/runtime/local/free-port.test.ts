import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { findFreePort } from './free-port.js';

describe('findFreePort', () => {
  it('never hands out a port it gave lately, even when the kernel offers it again', async () => {
    const offers = [41_000, 41_000, 41_001, 41_000, 41_002];
    const ask = async (): Promise<number> => offers.shift()!;
    assert.equal(await findFreePort('127.0.0.1', ask), 41_000);
    assert.equal(await findFreePort('127.0.0.1', ask), 41_001, 'the repeated offer was skipped');
    assert.equal(await findFreePort('127.0.0.1', ask), 41_002);
    assert.equal(offers.length, 0);
  });

  it('gives a loopback port that can be bound', async () => {
    const port = await findFreePort();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});
