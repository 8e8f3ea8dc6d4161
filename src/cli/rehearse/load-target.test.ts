import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AppSpec, ProxySpec } from '../../model/app-spec.js';
import { loadTarget } from './load-target.js';

const proxy = { listen: { http: { host: '127.0.0.1', port: 4080 }, https: { host: '127.0.0.1', port: 4443 } } } as ProxySpec;

function app(listen: { host: string; port: number }, frontDoor?: AppSpec['frontDoor']): AppSpec {
  return { name: 'web', listen, ...(frontDoor ? { frontDoor } : {}) } as AppSpec;
}

describe('the rehearsal load target', () => {
  test('an app with an address of its own is loaded there, even when it also has hosts', () => {
    assert.deepEqual(loadTarget(app({ host: '127.0.0.1', port: 5000 }, { hosts: ['a.test'], paths: ['/'], tls: false }), proxy), {
      origin: 'http://127.0.0.1:5000',
    });
  });

  test('an app with only hosts is loaded through the shared HTTPS listener with its first host, or the HTTP one without TLS', () => {
    const only = { host: '', port: 0 };
    assert.deepEqual(loadTarget(app(only, { hosts: ['shop.test', 'www.shop.test'], paths: ['/'], tls: 'acme' }), proxy), {
      origin: 'https://127.0.0.1:4443',
      host: 'shop.test',
    });
    assert.deepEqual(loadTarget(app(only, { hosts: ['*.api.test'], paths: ['/'], tls: false }), proxy), {
      origin: 'http://127.0.0.1:4080',
      host: 'rehearse.api.test',
    });
  });
});
