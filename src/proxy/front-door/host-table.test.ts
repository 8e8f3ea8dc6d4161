import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUnderPrefix, requestHostName, wildcardOf } from './host-names.js';
import { HostTable } from './host-table.js';

describe('HostTable', () => {
  const table = new HostTable([
    { hosts: ['example.com', 'www.example.com'], paths: ['/'], value: 'web' },
    { hosts: ['example.com'], paths: ['/api/', '/api/v2'], value: 'api' },
    { hosts: ['*.example.com'], paths: ['/'], value: 'tenants' },
    { hosts: ['shop.example.com'], paths: ['/cart'], value: 'cart' },
  ]);

  it('prefers the longest path prefix by whole segments', () => {
    assert.equal(table.match('example.com', '/'), 'web');
    assert.equal(table.match('example.com', '/api'), 'api');
    assert.equal(table.match('example.com', '/api?x=1'), 'api');
    assert.equal(table.match('example.com', '/api/v2/users'), 'api');
    assert.equal(table.match('example.com', '/apix'), 'web');
  });

  it('prefers the exact host, then the wildcard, which covers one more label only', () => {
    assert.equal(table.match('www.example.com', '/x'), 'web');
    assert.equal(table.match('a.example.com', '/x'), 'tenants');
    assert.equal(table.match('a.b.example.com', '/x'), undefined);
    assert.equal(table.match('shop.example.com', '/cart/1'), 'cart');
    // The exact host's prefixes do not cover /other: the wildcard takes it.
    assert.equal(table.match('shop.example.com', '/other'), 'tenants');
    assert.equal(table.match('other.org', '/'), undefined);
    assert.equal(table.hasHost('a.example.com'), true);
    assert.equal(table.hasHost('other.org'), false);
  });

  it('reads Host headers: case, port and a trailing dot do not matter; junk routes nowhere', () => {
    assert.equal(requestHostName('Example.COM:8443'), 'example.com');
    assert.equal(requestHostName('example.com.'), 'example.com');
    assert.equal(requestHostName('[::1]:80'), undefined);
    assert.equal(requestHostName('exa mple.com'), undefined);
    assert.equal(requestHostName(undefined), undefined);
    assert.equal(wildcardOf('example.com'), undefined);
    assert.equal(isUnderPrefix('/', '/'), true);
  });
});
