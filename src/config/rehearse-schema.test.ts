import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load-config.js';
import { specHash } from './spec-hash.js';

const CONFIG_PATH = '/srv/shop/cutover.yaml';
const APP = 'apps:\n  web:\n    listen: 8080\n    run: { command: [node, server.js] }\n';

function problemsOf(text: string): ConfigError['problems'] {
  try {
    parseConfig(text, CONFIG_PATH);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('the config loaded without a problem');
}

describe('the rehearse block', () => {
  it('defaults to one GET / when the config has none', () => {
    assert.deepEqual(parseConfig(APP, CONFIG_PATH).rehearse, { requests: [{ method: 'GET', path: '/', body: null, headers: {} }] });
  });

  it('resolves the requests as written, GET when no method is given', () => {
    const config = parseConfig(
      `${APP}rehearse:\n  requests:\n    - { path: /health/deep }\n    - { method: POST, path: "/orders?x=1", body: '{"item":1}', headers: { content-type: application/json } }\n`,
      CONFIG_PATH,
    );
    assert.deepEqual(config.rehearse?.requests, [
      { method: 'GET', path: '/health/deep', body: null, headers: {} },
      { method: 'POST', path: '/orders?x=1', body: '{"item":1}', headers: { 'content-type': 'application/json' } },
    ]);
  });

  it('changes no spec hash: the apps deploy alike with or without it', () => {
    const without = parseConfig(APP, CONFIG_PATH).apps[0]!;
    const withIt = parseConfig(`${APP}rehearse: { requests: [{ method: DELETE, path: /cart }] }\n`, CONFIG_PATH).apps[0]!;
    assert.equal(specHash(withIt), specHash(without));
  });

  it('refuses an unknown method, naming the ones it takes', () => {
    const [problem] = problemsOf(`${APP}rehearse: { requests: [{ method: FETCH, path: / }] }\n`);
    assert.equal(problem?.path, 'rehearse.requests.0.method');
    assert.match(problem?.message ?? '', /expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "FETCH"/);
  });

  it('refuses an empty list and a request without a path', () => {
    assert.match(problemsOf(`${APP}rehearse: { requests: [] }\n`)[0]?.message ?? '', /requests is empty/);
    const [missing] = problemsOf(`${APP}rehearse: { requests: [{ method: GET }] }\n`);
    assert.equal(missing?.path, 'rehearse.requests.0.path');
    assert.match(missing?.message ?? '', /missing required key "path"/);
  });

  it('says what it expects when requests is not a list, with an example', () => {
    const [problem] = problemsOf(`${APP}rehearse: { requests: GET / }\n`);
    assert.match(problem?.message ?? '', /expected a list of requests, got "GET \/"/);
    assert.match(problem?.hint ?? '', /method: POST, path: \/orders/);
  });

  it('suggests the key meant when one is misspelt', () => {
    const [problem] = problemsOf(`${APP}rehearse: { request: [{ path: / }] }\n`);
    assert.equal(problem?.message, 'unknown key "request"');
    assert.match(problem?.hint ?? '', /did you mean "requests"/);
  });
});
