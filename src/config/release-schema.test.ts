import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load-config.js';
import { specHash } from './spec-hash.js';

const LOCAL = 'apps:\n  web:\n    listen: 8080\n    run: { command: [node, server.js] }\n';

describe('release: in cutover.yaml', () => {
  it('resolves from (absolute), build steps as argv with their timeouts, shared and keep; run.cwd is taken in the release', () => {
    const text = `${LOCAL}    release:\n      from: ./app\n      exclude: [.git]\n      build:\n        - [npm, ci]\n        - { command: [npm, run, build], timeout: 2m }\n      shared: [uploads]\n`;
    const app = parseConfig(text, '/srv/cutover.yaml').apps[0]!;
    assert.deepEqual(app.release, {
      from: '/srv/app',
      exclude: ['.git'],
      build: [
        { command: ['npm', 'ci'], timeoutMs: 600_000 },
        { command: ['npm', 'run', 'build'], timeoutMs: 120_000 },
      ],
      shared: ['uploads'],
      keep: 5,
    });
    assert.equal(app.run.cwd, '/srv/app');
  });

  it('hashes alike wherever the release lies, and differently when the build changes', () => {
    const at = (from: string, build = '[[npm, ci]]'): string =>
      specHash(parseConfig(`${LOCAL}    release: { from: ${from}, build: ${build} }\n`, '/srv/cutover.yaml').apps[0]!);
    assert.equal(at('./app'), at('./other'));
    assert.notEqual(at('./app'), at('./app', '[[npm, install]]'));
  });

  it('refuses a shared path outside the release', () => {
    assert.throws(() => parseConfig(`${LOCAL}    release: { from: ./app, shared: [../etc] }\n`, '/srv/cutover.yaml'), ConfigError);
  });

  it('is a config error on a Kubernetes app: its image is its release', () => {
    const text =
      'apps:\n  web:\n    runtime: { kubernetes: { image: "web:1", port: 8080 } }\n    router: { kubernetes: { service: web } }\n    release: { from: ./app }\n';
    assert.throws(
      () => parseConfig(text, '/srv/cutover.yaml'),
      (error: unknown) => error instanceof ConfigError && /image is its release/.test(error.message),
    );
  });
});
