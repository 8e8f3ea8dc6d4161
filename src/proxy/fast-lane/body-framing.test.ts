import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BodyFraming } from './body-framing.js';
import { MALFORMED_CHUNKED } from './chunked-scanner.js';
import { parseUpstreamResponse, type UpstreamResponseHead } from './upstream-response.js';

/** Follows the body of `response` (head included), read in pieces cut at the `cuts` offsets: each end offset, and the data handed over. */
function follow(response: string, cuts: number[]): { ends: number[]; data: string; framing: BodyFraming } {
  const bytes = Buffer.from(response, 'latin1');
  const head = parseUpstreamResponse(bytes, 0, false, 64 * 1024) as UpstreamResponseHead;
  assert.equal(typeof head, 'object', 'precondition: the head parses');
  const framing = new BodyFraming();
  framing.begin(head);
  const ends: number[] = [];
  let data = '';
  let start = head.length;
  for (const cut of [...cuts, bytes.length]) {
    const piece = bytes.subarray(start, cut);
    ends.push(framing.end(piece, 0, false, (d) => (data += d.toString('latin1'))));
    start = cut;
    if (framing.isComplete) break;
  }
  return { ends, data, framing };
}

describe('BodyFraming', () => {
  it('ends a Content-Length body after its length, across reads, and marks bytes beyond it as overrun', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n';
    const whole = follow(`${head}hello`, [head.length + 2]);
    assert.deepEqual(whole.ends, [2, 3]);
    assert.equal(whole.framing.isComplete, true);
    assert.equal(whole.framing.isOverrun, false);
    const beyond = follow(`${head}helloEXTRA`, []);
    assert.deepEqual(beyond.ends, [5]);
    assert.equal(beyond.framing.isOverrun, true);
  });

  it('ends a chunked body at its last chunk and hands the data over without the framing', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const body = '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
    const followed = follow(`${head}${body}`, [head.length + 6]);
    assert.equal(followed.framing.isComplete, true);
    assert.equal(followed.data, 'abcde');
    assert.equal(followed.ends.at(-1), body.length - 6);
  });

  it('says MALFORMED_CHUNKED for a broken chunked body', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    assert.deepEqual(follow(`${head}zz\r\n`, []).ends, [MALFORMED_CHUNKED]);
  });

  it('never ends a body delimited by the close, and forgets everything on reset', () => {
    const followed = follow('HTTP/1.1 200 OK\r\n\r\nuntil the end', []);
    assert.deepEqual(followed.ends, ['until the end'.length]);
    assert.equal(followed.framing.isComplete, false);
    followed.framing.reset();
    assert.equal(followed.framing.chunked, undefined);
    assert.equal(followed.framing.isOverrun, false);
  });
});
