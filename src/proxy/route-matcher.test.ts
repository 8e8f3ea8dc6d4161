import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteRule } from '../model/traffic-plan.js';
import { createRouteMatcher } from './route-matcher.js';

const header = (revision: number, name: string, value: string): RouteRule => ({ revision, match: { header: { name, value } } });
const cookie = (revision: number, name: string, value: string): RouteRule => ({ revision, match: { cookie: { name, value } } });
const everyRevision = (): boolean => true;

describe('RouteMatcher', () => {
  test('a header rule matches the name case-insensitively and the value exactly', () => {
    const matcher = createRouteMatcher([header(2, 'X-Canary', 'yes')], everyRevision);
    assert.equal(matcher?.match({ 'x-canary': 'yes' }), 2);
    assert.equal(matcher?.match({ 'x-canary': 'Yes' }), undefined);
    assert.equal(matcher?.match({ 'x-canary': 'yes please' }), undefined);
    assert.equal(matcher?.match({}), undefined);
  });

  test('a cookie rule matches the value of that cookie exactly', () => {
    const matcher = createRouteMatcher([cookie(3, 'beta', 'on')], everyRevision);
    assert.equal(matcher?.match({ cookie: 'a=1; beta=on' }), 3);
    assert.equal(matcher?.match({ cookie: 'beta=off' }), undefined);
    assert.equal(matcher?.match({ cookie: 'xbeta=on' }), undefined);
    assert.equal(matcher?.match({ cookie: ';;=;beta' }), undefined);
    assert.equal(matcher?.match({}), undefined);
  });

  test('rules are checked in order and the first match wins', () => {
    const matcher = createRouteMatcher([cookie(3, 'beta', 'on'), header(2, 'x-canary', '1')], everyRevision);
    assert.equal(matcher?.match({ 'x-canary': '1', cookie: 'beta=on' }), 3);
    assert.equal(matcher?.match({ 'x-canary': '1' }), 2);
  });

  test('a rule whose revision cannot take requests is skipped', () => {
    const matcher = createRouteMatcher([header(9, 'x-canary', '1'), header(2, 'x-canary', '1')], (revision) => revision === 2);
    assert.equal(matcher?.match({ 'x-canary': '1' }), 2);
    assert.equal(
      createRouteMatcher([header(9, 'x-canary', '1')], (revision) => revision === 2),
      undefined,
    );
  });

  test('no routes, or only malformed ones, give no matcher at all', () => {
    assert.equal(createRouteMatcher(undefined, everyRevision), undefined);
    assert.equal(createRouteMatcher([], everyRevision), undefined);
    const malformed = [null, { revision: 2 }, { revision: 2, match: null }, { revision: 2, match: { header: { name: '' } } }];
    assert.equal(createRouteMatcher(malformed as unknown as RouteRule[], everyRevision), undefined);
  });
});
