import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HeaderNames, equalsIgnoringCase, hasBytesAt, lowerBytes, startsWithIgnoringCase } from './http-bytes.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('header names looked up in the bytes', () => {
  const names = new HeaderNames<string>([
    ['content-length', 'length'],
    ['content_length', 'look-alike'],
    ['te', 'te'],
  ]);

  test('a listed name is found in any case, at any offset', () => {
    const buf = bytes('xxContent-LENGTH: 5');
    assert.equal(names.lookup(buf, 2, 16), 'length');
    assert.equal(names.lookup(bytes('TE'), 0, 2), 'te');
  });

  test('names that differ only by "-" and "_" are told apart', () => {
    assert.equal(names.lookup(bytes('Content_Length'), 0, 14), 'look-alike');
  });

  test('a name not listed, or a listed one cut short or run on, is not found', () => {
    assert.equal(names.lookup(bytes('content-type'), 0, 12), undefined);
    assert.equal(names.lookup(bytes('content-lengths'), 0, 15), undefined);
    assert.equal(names.lookup(bytes('content-length'), 0, 13), undefined);
    assert.equal(names.lookup(bytes('tf'), 0, 2), undefined);
  });
});

describe('comparing bytes to lower-case text', () => {
  test('equality ignores ASCII case only, and needs the whole range', () => {
    assert.equal(equalsIgnoringCase(bytes('Keep-Alive'), 0, 10, lowerBytes('keep-alive')), true);
    assert.equal(equalsIgnoringCase(bytes('keep-alive, x'), 0, 13, lowerBytes('keep-alive')), false);
    // Latin-1 letters are not folded: 0xC9 is not "é" (0xE9) here.
    assert.equal(equalsIgnoringCase(bytes('\u00c9'), 0, 1, Buffer.from([0xe9])), false);
  });

  test('a prefix match needs the whole prefix', () => {
    assert.equal(startsWithIgnoringCase(bytes('Text/Event-Stream; charset=utf-8'), 0, 32, lowerBytes('text/event-stream')), true);
    assert.equal(startsWithIgnoringCase(bytes('text/event'), 0, 10, lowerBytes('text/event-stream')), false);
  });

  test('exact bytes at an offset are case-sensitive and must fit in the buffer', () => {
    const version = bytes(' HTTP/1.1\r\n');
    assert.equal(hasBytesAt(bytes('GET / HTTP/1.1\r\n'), 5, version), true);
    assert.equal(hasBytesAt(bytes('GET / http/1.1\r\n'), 5, version), false);
    assert.equal(hasBytesAt(bytes('GET / HTTP/1.1\r'), 5, version), false);
  });
});
