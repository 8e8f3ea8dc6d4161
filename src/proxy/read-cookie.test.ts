import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readCookie } from './read-cookie.js';

describe('readCookie', () => {
  test('finds a cookie among others, whatever its position', () => {
    assert.equal(readCookie('a=1; b=2; c=3', 'a'), '1');
    assert.equal(readCookie('a=1; b=2; c=3', 'b'), '2');
    assert.equal(readCookie('a=1; b=2; c=3', 'c'), '3');
    assert.equal(readCookie('a=1; b=2', 'd'), undefined);
  });

  test('the first of two cookies with the same name wins', () => {
    assert.equal(readCookie('a=1; a=2', 'a'), '1');
  });

  test('names match exactly and case-sensitively, not as a prefix or suffix', () => {
    assert.equal(readCookie('ab=1; A=2; a=3', 'a'), '3');
    assert.equal(readCookie('xa=1', 'a'), undefined);
    assert.equal(readCookie('a.b=1', 'a'), undefined);
  });

  test('spaces and tabs around names and values are ignored, inner ones kept', () => {
    assert.equal(readCookie('  a  =  1  ;b=2', 'a'), '1');
    assert.equal(readCookie('x=1;\ta\t=\tv w\t', 'a'), 'v w');
    assert.equal(readCookie('x=1;a=2', 'a'), '2');
  });

  test('a value in double quotes is returned without them', () => {
    assert.equal(readCookie('a="quoted"', 'a'), 'quoted');
    assert.equal(readCookie('a=""', 'a'), '');
    assert.equal(readCookie('a="', 'a'), '"');
    assert.equal(readCookie('a="half', 'a'), '"half');
  });

  test('the value runs to the next semicolon and may contain =', () => {
    assert.equal(readCookie('a=b=c; d=e', 'a'), 'b=c');
    assert.equal(readCookie('a=; b=2', 'a'), '');
  });

  test('pairs without = and empty pairs are skipped', () => {
    assert.equal(readCookie('a; b=2; a=3', 'a'), '3');
    assert.equal(readCookie(';;; ;a=1;;', 'a'), '1');
    assert.equal(readCookie('a', 'a'), undefined);
    assert.equal(readCookie('=1; =; a=2', 'a'), '2');
  });

  test('several Cookie headers are read in order', () => {
    assert.equal(readCookie(['b=1', 'a=2', 'a=3'], 'a'), '2');
    assert.equal(readCookie([], 'a'), undefined);
  });

  test('hostile or empty input gives undefined, never an exception', () => {
    const inputs = ['', ';', '=', '==', ';=;=;', '"', '\u0000a=1', 'a=%E0%A4%A', 'a=\uD800', ' '.repeat(1000)];
    for (const input of inputs) assert.doesNotThrow(() => readCookie(input, 'a'));
    assert.equal(readCookie(undefined, 'a'), undefined);
    assert.equal(readCookie('a=1', ''), undefined);
    assert.equal(readCookie('a=%E0%A4%A', 'a'), '%E0%A4%A', 'returned as sent, not decoded');
  });

  test('a long header of pairs without = is read in one pass', () => {
    // Searching for '=' afresh for every pair would make this quadratic: minutes, not milliseconds.
    assert.equal(readCookie(`${'x;'.repeat(200_000)}a=1`, 'a'), '1');
  });
});
