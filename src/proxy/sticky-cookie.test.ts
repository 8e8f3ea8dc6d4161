import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newStickyValue, StickyCookie } from './sticky-cookie.js';

describe('StickyCookie', () => {
  test('the Set-Cookie value carries path, max-age in seconds, HttpOnly and SameSite=Lax', () => {
    const sticky = new StickyCookie({ cookie: 'cutover-web', ttlMs: 86_400_000 });
    assert.equal(sticky.setCookie('0123456789abcdef'), 'cutover-web=0123456789abcdef; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax');
    assert.match(new StickyCookie({ cookie: 'c', ttlMs: 1_500 }).setCookie('v'), /Max-Age=2;/);
  });

  test('reads a valid value and rejects missing, empty, too long or odd ones', () => {
    const sticky = new StickyCookie({ cookie: 'cv', ttlMs: 1_000 });
    assert.equal(sticky.read('a=1; cv=0123456789abcdef'), '0123456789abcdef');
    assert.equal(sticky.read('cv=user-42.eu_west'), 'user-42.eu_west');
    assert.equal(sticky.read('cv="0123456789abcdef"'), '0123456789abcdef');
    assert.equal(sticky.read(undefined), undefined);
    assert.equal(sticky.read('other=1'), undefined);
    assert.equal(sticky.read('cv='), undefined);
    assert.equal(sticky.read(`cv=${'a'.repeat(65)}`), undefined);
    assert.equal(sticky.read('cv=a b'), undefined);
    assert.equal(sticky.read('cv=<script>'), undefined);
  });

  test('a name that cannot be a cookie name or a ttl that is not > 0 is refused with PROXY_INVALID_PLAN', () => {
    for (const cookie of ['', 'a b', 'a;b', 'a=b', 'a\r\nSet-Cookie: x']) {
      assert.throws(() => new StickyCookie({ cookie, ttlMs: 1_000 }), { code: 'PROXY_INVALID_PLAN' });
    }
    for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new StickyCookie({ cookie: 'cv', ttlMs }), { code: 'PROXY_INVALID_PLAN' });
    }
  });
});

describe('newStickyValue', () => {
  test('gives 16 lower-case hex digits, different every time, across refills of the random pool', () => {
    const values = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const value = newStickyValue();
      assert.match(value, /^[0-9a-f]{16}$/);
      values.add(value);
    }
    assert.equal(values.size, 5_000);
  });
});
