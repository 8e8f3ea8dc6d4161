import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { givenDaemonForTest, sampleAppConfig } from './helpers/daemon-fixture.js';

describe('--set overrides recorded in revisions (issue 20)', () => {
  it('history shows the overrides of each revision, and a deploy that drops one says so', async (t) => {
    const daemon = await givenDaemonForTest(t, (port) => sampleAppConfig(port, { replicas: 1 }));
    const set = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=7', '--set', 'web.run.env.COLOR=blue']);
    assert.equal(set.code, 0, set.stdout + set.stderr);
    assert.match(set.stdout, /web: deploying revision 2/);
    assert.doesNotMatch(set.stderr, /does not set it/, 'revision 1 had no override to drop');

    const json = await daemon.cli(['history', 'web', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const revisions = (JSON.parse(json.stdout) as { revisions: { number: number; overrides: string[] }[] }).revisions;
    assert.deepEqual(
      revisions.map((r) => [r.number, r.overrides]),
      [
        [1, []],
        [2, ['web.run.env.VERSION=7', 'web.run.env.COLOR=blue']],
      ],
    );
    const table = await daemon.cli(['history', 'web']);
    assert.match(table.stdout, /SET/);
    assert.match(table.stdout, /^2 .*web\.run\.env\.VERSION=7 web\.run\.env\.COLOR=blue/m);

    // Keeps VERSION (another value), drops COLOR: only the dropped one is named.
    const dropping = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=8']);
    assert.equal(dropping.code, 0, dropping.stdout + dropping.stderr);
    assert.match(dropping.stdout, /web: deploying revision 3/);
    assert.match(dropping.stderr, /web: the stable revision had --set web\.run\.env\.COLOR=blue; this deploy does not set it, the file's value applies/);
    assert.doesNotMatch(dropping.stderr, /VERSION/);

    const json3 = await daemon.cli(['deploy', '--json']);
    assert.equal(json3.code, 0, json3.stdout + json3.stderr);
    const results = (JSON.parse(json3.stdout.slice(json3.stdout.indexOf('{'))) as { results: { droppedOverrides?: string[] }[] }).results;
    assert.deepEqual(results[0]!.droppedOverrides, ['web.run.env.VERSION=8']);
  });
});
