import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './load-config.js';
import { specHash } from './spec-hash.js';

function app(text: string) {
  const spec = parseConfig(text, '/srv/cutover.yaml').apps[0];
  assert.ok(spec);
  return spec;
}

const BASE = 'apps:\n  web:\n    listen: 8080\n    run: { command: [node, server.js], env: { A: "1", B: "2" } }\n';

describe('specHash', () => {
  it('is a sha256 hex digest', () => {
    assert.match(specHash(app(BASE)), /^[0-9a-f]{64}$/);
  });

  it('does not depend on the order keys were written in', () => {
    const reordered = 'apps:\n  web:\n    run: { env: { B: "2", A: "1" }, command: [node, server.js] }\n    listen: 8080\n';
    assert.equal(specHash(app(reordered)), specHash(app(BASE)));
  });

  it('is the same for a value written out and the same value left to its default', () => {
    assert.equal(specHash(app(`${BASE}    replicas: 1\n    drainTimeout: 30s\n`)), specHash(app(BASE)));
  });

  it('changes when anything in the spec changes', () => {
    const base = specHash(app(BASE));
    assert.notEqual(specHash(app(`${BASE}    drainTimeout: 5s\n`)), base);
    assert.notEqual(specHash(app(BASE.replace('"2"', '"3"'))), base);
    assert.notEqual(specHash(app(BASE.replace('server.js', 'other.js'))), base);
  });

  it("leaves replicas out: a new count is the app's, and makes no new revision (issue 21)", () => {
    assert.equal(specHash(app(`${BASE}    replicas: 7\n`)), specHash(app(BASE)));
  });
});
