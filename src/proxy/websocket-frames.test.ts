import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FrameCursor } from './websocket-frames.js';

/** One frame as a peer would send it: unmasked from a server, masked from a client. */
function frame(payload: Buffer, isMasked: boolean, opcode = 0x1): Buffer {
  const length = payload.length;
  const extended =
    length < 126
      ? Buffer.alloc(0)
      : length < 65_536
        ? Buffer.from([length >> 8, length & 0xff])
        : Buffer.concat([Buffer.alloc(4), Buffer.from([length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff])]);
  const length7 = length < 126 ? length : length < 65_536 ? 126 : 127;
  const head = Buffer.from([0x80 | opcode, (isMasked ? 0x80 : 0) | length7]);
  return Buffer.concat([head, extended, isMasked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), payload]);
}

describe('FrameCursor', () => {
  test('finds the end of each frame of any size, masked or not, however the stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.oneof(fc.integer({ min: 0, max: 130 }), fc.integer({ min: 65_530, max: 65_540 })), isMasked: fc.boolean() }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }),
        (frames, cuts) => {
          const parts = frames.map(({ size, isMasked }) => frame(Buffer.alloc(size, 0x61), isMasked));
          const stream = Buffer.concat(parts);
          const boundaries = new Set<number>([0]);
          let at = 0;
          for (const part of parts) boundaries.add((at += part.length));
          const cursor = new FrameCursor();
          let offset = 0;
          for (const cut of [...cuts, stream.length]) {
            const end = Math.min(stream.length, offset + cut);
            cursor.advance(stream.subarray(offset, end));
            offset = end;
            assert.equal(cursor.isAtBoundary, boundaries.has(offset), `after ${offset} bytes`);
            if (offset === stream.length) break;
          }
        },
      ),
    );
  });

  test('endOfFrame stops right after the frame under way', () => {
    const cursor = new FrameCursor();
    const stream = Buffer.concat([frame(Buffer.from('hello'), false), frame(Buffer.from('world'), false)]);
    cursor.advance(stream.subarray(0, 4));
    assert.equal(cursor.isAtBoundary, false);
    assert.equal(cursor.endOfFrame(stream.subarray(4), 0), 3);
    assert.equal(cursor.isAtBoundary, true);
  });
});
