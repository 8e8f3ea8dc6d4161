import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { LoadClient } from '../src/loadgen/load-client.js';
import { DaemonFixture, isProcessGroupAlive, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

describe('rolling deploys under load', () => {
  let daemon: DaemonFixture;
  let recordFile: string;

  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { env: { KEEPALIVE_MS: '1000' } }));
    recordFile = path.join(daemon.dir, 'posts.txt');
  });
  after(async () => daemon.stop());

  it('runs 20 deploys in a row under 32 keep-alive clients with 0 failed requests and 0 duplicated POSTs', async () => {
    const load = new LoadClient({
      origin: daemon.origin,
      clients: 32,
      postShare: 0.5,
      // Mostly back-to-back, sometimes idle for about the app's 1 s keep-alive timeout: the race window.
      pauseMs: () => (Math.random() < 0.05 ? 800 + Math.random() * 400 : 0),
      maxDurationMs: 240_000,
    });
    load.start();
    for (let version = 2; version <= 21; version++) {
      const result = await daemon.cli(['deploy', '--set', `web.run.env.VERSION=${version}`, '--set', `web.run.env.RECORD_POSTS=${recordFile}`]);
      assert.equal(result.code, 0, `deploy ${version} exited ${result.code}: ${result.stdout}\n${result.stderr}`);
    }
    const report = await load.stop();

    assert.ok(report.requests > 1000, `only ${report.requests} requests were sent`);
    assert.deepEqual(report.failures, [], `failed requests: ${JSON.stringify(report.failures)}`);
    assert.equal(report.failed, 0);
    const recorded = fs.readFileSync(recordFile, 'utf8').trim().split('\n');
    const unique = new Set(recorded);
    assert.equal(recorded.length, unique.size, `${recorded.length - unique.size} POSTs reached an app twice`);
    // Every POST answered 2xx after the first deploy was recorded exactly once.
    const answered = new Set(report.postIds);
    for (const id of recorded) assert.ok(answered.has(id), `a POST the app received was not answered: ${id}`);

    const status = await daemon.status();
    const web = status.apps[0]!;
    assert.equal(web.revision, 21);
    assert.equal(web.rollout?.phase, 'promoted');
    assert.equal(web.instances.filter((i) => i.state === 'ready').length, 3);
  });

  it('says so and exits 0 when the spec did not change', async () => {
    const status = await daemon.status();
    const revision = status.apps[0]!.revision;
    const env = status.apps[0]!.instances.length;
    const result = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=21', '--set', `web.run.env.RECORD_POSTS=${recordFile}`]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /unchanged/);
    const again = await daemon.status();
    assert.equal(again.apps[0]!.revision, revision);
    assert.equal(again.apps[0]!.instances.length, env);
  });

  it('lets a slow in-flight request to a replaced instance finish with 200', async () => {
    const before = await daemon.status();
    const oldPids = before.apps[0]!.instances.filter((i) => i.state === 'ready').map((i) => i.pid!);
    // Ask for 2 s of work from every old instance, so one of them is surely being replaced.
    const slow = Array.from({ length: 6 }, () => get(`${daemon.origin}/slow?ms=2000`));
    await sleepMs(100);
    const deploy = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=slow']);
    assert.equal(deploy.code, 0, deploy.stderr);
    const answers = await Promise.all(slow);
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.match(answer.body, /slow 2000ms done by v21/);
    }
    for (const pid of oldPids) await waitFor(`old instance ${pid} to be gone`, () => !isProcessGroupAlive(pid));
  });
});

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}
