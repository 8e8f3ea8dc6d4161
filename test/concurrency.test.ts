import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, sampleAppConfig, waitFor, type CliResult } from './helpers/daemon-fixture.js';

/** The sample app as `web`, plus a copy named `api` on the next port. */
function twoApps(port: number, apiPort: number): string {
  const web = sampleAppConfig(port, { replicas: 2, rolling: '{ maxSurge: 1, maxUnavailable: 0, minReady: 1s }' });
  const api = web.split('\n').slice(2).join('\n').replace(`listen: 127.0.0.1:${port}`, `listen: 127.0.0.1:${apiPort}`);
  return `${web}\n  api:\n${api}`;
}

describe('parallel deploys', () => {
  let daemon: DaemonFixture;
  before(async () => {
    const apiPort = await findFreePort();
    daemon = await DaemonFixture.start((port) => twoApps(port, apiPort));
  });
  after(async () => daemon.stop());

  it('of one app: exactly one runs; the other 19 exit 1 at once, naming the running rollout', async () => {
    const finished: { n: number; result: CliResult }[] = [];
    // A canary waits at its gate for `promote`: the one deploy that runs stays running however
    // slowly the other nineteen start, so none of them can arrive after it ended.
    const deploys = Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        daemon.cli(['deploy', 'web', '--strategy', 'canary', '--set', 'web.run.env.VERSION=2']).then((result) => void finished.push({ n, result })),
      ),
    );
    await waitFor('19 deploys to return', () => finished.length >= 19, 60_000);
    const promote = await daemon.cli(['promote', 'web', '--full']);
    assert.equal(promote.code, 0, promote.stderr);
    await deploys;
    const winners = finished.filter((f) => f.result.code === 0);
    const losers = finished.filter((f) => f.result.code !== 0);
    assert.equal(winners.length, 1, finished.map((f) => `${f.result.code}: ${f.result.stdout}${f.result.stderr}`).join('\n'));
    assert.equal(losers.length, 19);
    const rolloutId = Number(/rollout (\d+)/.exec(winners[0]!.result.stdout)![1]);
    for (const { result } of losers) {
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`app "web" already has rollout ${rolloutId} (progressing|paused)`));
    }
    // "At once": every refused deploy returned while the one that runs was still waiting at its gate.
    assert.equal(finished.at(-1)!.n, winners[0]!.n, 'the deploy that runs finishes last');
    const status = await daemon.status();
    const web = status.apps.find((a) => a.name === 'web')!;
    assert.equal(web.rollout?.id, rolloutId);
    assert.equal(web.rollout?.phase, 'promoted');
    assert.equal(web.revision, 2, 'one new revision, not twenty');
  });

  it('of different apps run side by side', async () => {
    const [web, api] = await Promise.all([
      daemon.cli(['deploy', 'web', '--set', 'web.run.env.VERSION=3']),
      daemon.cli(['deploy', 'api', '--set', 'api.run.env.VERSION=3']),
    ]);
    assert.equal(web.code, 0, web.stderr);
    assert.equal(api.code, 0, api.stderr);
    const status = await daemon.status();
    const rollouts = status.apps.map((a) => a.rollout!);
    assert.ok(rollouts.every((r) => r.phase === 'promoted'));
    // Both ran at the same time: each started before the other ended.
    const history = await Promise.all(['web', 'api'].map((app) => daemon.client.history(app)));
    const [w, a] = history.map((h) => h.rollouts[0]!);
    assert.ok(w!.startedAt < a!.endedAt! && a!.startedAt < w!.endedAt!, 'the two rollouts overlapped');
  });
});
