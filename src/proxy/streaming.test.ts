import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { group, LOOPBACK, makePlan, startProxy, startUpstream, waitFor } from '../../test/helpers/proxy-fixtures.js';

const MIB = 1024 * 1024;
const TOTAL_BYTES = 20 * MIB;

/** 1 MiB of varied bytes, so a hash tells whether chunks were lost or reordered. */
function chunk(index: number): Buffer {
  const buffer = Buffer.alloc(MIB);
  for (let i = 0; i < buffer.length; i += 4096) buffer.writeUInt32BE(index * 1_000_000 + i, i);
  return buffer;
}

function hashOfAll(): string {
  const hash = createHash('sha256');
  for (let i = 0; i < TOTAL_BYTES / MIB; i++) hash.update(chunk(i));
  return hash.digest('hex');
}

/** Writes chunks `from` .. 19 with backpressure. */
async function writeChunks(stream: ClientRequest | ServerResponse, from: number): Promise<void> {
  for (let i = from; i < TOTAL_BYTES / MIB; i++) {
    if (!stream.write(chunk(i))) await once(stream, 'drain');
  }
}

describe('streaming', () => {
  test('a 20 MB upload is streamed to the upstream while the client is still sending', async () => {
    let received = 0;
    const upstream = await startUpstream((req, res) => {
      const hash = createHash('sha256');
      req.on('data', (data: Buffer) => {
        received += data.length;
        hash.update(data);
      });
      req.on('end', () => res.end(`${received} ${hash.digest('hex')}`));
    });
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    try {
      const req = request({
        host: LOOPBACK,
        port: proxy.port,
        method: 'PUT',
        path: '/upload',
        headers: { 'content-length': String(TOTAL_BYTES) },
        agent: false,
      });
      const response = once(req, 'response') as Promise<[IncomingMessage]>;
      req.write(chunk(0));
      // A proxy that buffered the whole body would deliver nothing before the last byte.
      await waitFor(() => received > 0, 'the first bytes to reach the upstream before the upload is complete');
      await writeChunks(req, 1);
      req.end();
      const [res] = await response;
      let text = '';
      for await (const data of res) text += String(data);
      assert.equal(res.statusCode, 200);
      assert.equal(text, `${TOTAL_BYTES} ${hashOfAll()}`);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  test('a 20 MB download is streamed to the client while the upstream is still sending', async () => {
    let clientReceived = 0;
    const upstream = await startUpstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(chunk(0));
      void waitFor(() => clientReceived > 0, 'the client to get the first bytes before the download is complete')
        .then(() => writeChunks(res, 1))
        .then(
          () => res.end(),
          () => res.destroy(),
        );
    });
    const proxy = await startProxy(makePlan(1, [group(1, 1, [upstream.endpoint('a')])]));
    try {
      const req = request({ host: LOOPBACK, port: proxy.port, path: '/download', agent: false });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      const hash = createHash('sha256');
      for await (const data of res) {
        clientReceived += (data as Buffer).length;
        hash.update(data as Buffer);
      }
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(clientReceived, TOTAL_BYTES);
      assert.equal(hash.digest('hex'), hashOfAll());
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
