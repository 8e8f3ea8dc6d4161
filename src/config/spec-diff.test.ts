import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './load-config.js';
import { configDriftMessage, describeSpecDifferences } from './spec-diff.js';

const appWith = (version: string, replicas = 2) =>
  parseConfig(
    `apps:\n  web:\n    listen: 127.0.0.1:8080\n    replicas: ${replicas}\n    run: { command: [node, server.js], env: { VERSION: "${version}" } }\n`,
    '/srv/cutover.yaml',
  ).apps[0]!;

describe('describeSpecDifferences (issue 20)', () => {
  it('names what differs in the part of a spec that makes a revision', () => {
    assert.deepEqual(describeSpecDifferences(appWith('7'), appWith('5')), ['run.env.VERSION: 7 → 5']);
    assert.equal(
      configDriftMessage(7, ['run.env.VERSION: 7 → 5']),
      'cutover.yaml differs from revision 7 (run.env.VERSION: 7 → 5): cutover deploy rolls it out',
    );
  });

  it('finds nothing when only the replicas differ', () => {
    assert.deepEqual(describeSpecDifferences(appWith('7', 2), appWith('7', 4)), []);
  });
});
