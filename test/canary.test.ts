import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'undici';
import type { DaemonFixture } from './helpers/daemon-fixture.js';
import { givenDaemon, isProcessGroupAlive, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { sample, sharePercent } from './helpers/traffic.js';

const REQUESTS_PER_WEIGHT = 10_000;

async function untilStep(daemon: DaemonFixture, stepIndex: number): Promise<void> {
  await waitFor(
    `the canary to wait at step ${stepIndex + 1}`,
    async () => {
      const rollout = (await daemon.status()).apps[0]!.rollout;
      return rollout?.phase === 'paused' && rollout.gate !== null && rollout.stepIndex === stepIndex;
    },
    20_000,
  );
}

/** A client that keeps one cookie jar of one cookie, like a browser would. */
async function revisionWithCookie(origin: string, cookie: string, count: number, headers: Record<string, string> = {}): Promise<Set<string>> {
  const pool = new Pool(origin, { connections: 1 });
  const seen = new Set<string>();
  try {
    for (let n = 0; n < count; n++) {
      const response = await pool.request({ path: '/', method: 'GET', headers: { cookie, ...headers } });
      await response.body.dump();
      seen.add(String(response.headers['x-cutover-revision']));
    }
  } finally {
    await pool.close();
  }
  return seen;
}

describe('canary deploys', () => {
  const daemon = givenDaemon((port) =>
    sampleAppConfig(port, {
      replicas: 2,
      strategy: [
        'canary:',
        '        steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: {} }]',
        '        sticky: { cookie: cutover-canary, ttl: 1h }',
        '        routes: [{ header: { name: x-beta, value: "1" } }, { cookie: { name: beta, value: "yes" } }]',
        '        abortScaleDownDelay: 1s',
      ].join('\n'),
    }),
  );

  let canarySideCookie = '';

  it(`sends the configured share to the canary at setWeight 10 (±2 points over ${REQUESTS_PER_WEIGHT} requests)`, async (t) => {
    const deploy = await daemon().cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.match(deploy.stdout, /deploying revision 2/);
    await untilStep(daemon(), 1);
    const status = (await daemon().status()).apps[0]!;
    assert.deepEqual(status.rollout?.steps, ['setWeight 10', 'pause (until promoted)', 'setWeight 50', 'pause (until promoted)']);
    assert.deepEqual(
      status.traffic.map((t) => [t.revision, t.weight]),
      [
        [2, 10],
        [1, 90],
      ],
    );

    const result = await sample(daemon().origin, REQUESTS_PER_WEIGHT);
    assert.equal(result.byRevision['failed'], undefined);
    const share = sharePercent(result, 2);
    t.diagnostic(`canary share at weight 10: ${share.toFixed(2)}% of ${REQUESTS_PER_WEIGHT}`);
    assert.ok(Math.abs(share - 10) <= 2, `canary share ${share.toFixed(2)}% at weight 10`);
    assert.ok(result.setCookies.length > 0 && result.setCookies.every((c) => /^cutover-canary=[^;]+; .*Max-Age=3600/.test(c)), result.setCookies[0]);

    // Remember a client that landed on the canary, to follow it through the weight increase.
    for (const setCookie of result.setCookies) {
      const cookie = setCookie.split(';')[0]!;
      const seen = await revisionWithCookie(daemon().origin, cookie, 1);
      if (seen.has('2')) {
        canarySideCookie = cookie;
        break;
      }
    }
    assert.notEqual(canarySideCookie, '', 'some client landed on the canary');
    assert.deepEqual([...(await revisionWithCookie(daemon().origin, canarySideCookie, 50))], ['2'], 'a sticky client stays on its side');
  });

  it('header and cookie routes always reach the canary', async () => {
    assert.deepEqual((await sample(daemon().origin, 100, { headers: { 'x-beta': '1' } })).byRevision, { 2: 100 });
    assert.deepEqual((await sample(daemon().origin, 100, { headers: { cookie: 'theme=dark; beta=yes' } })).byRevision, { 2: 100 });
    assert.deepEqual((await sample(daemon().origin, 100, { headers: { 'x-beta': '0' } })).byRevision['failed'], undefined);
  });

  it(`sends the configured share at setWeight 50 after promote, and the sticky client stays on the canary`, async (t) => {
    const promote = await daemon().cli(['promote', 'web']);
    assert.equal(promote.code, 0, promote.stderr);
    await untilStep(daemon(), 3);
    const share = sharePercent(await sample(daemon().origin, REQUESTS_PER_WEIGHT), 2);
    t.diagnostic(`canary share at weight 50: ${share.toFixed(2)}% of ${REQUESTS_PER_WEIGHT}`);
    assert.ok(Math.abs(share - 50) <= 2, `canary share ${share.toFixed(2)}% at weight 50`);
    assert.deepEqual([...(await revisionWithCookie(daemon().origin, canarySideCookie, 50))], ['2']);
  });

  it('pause holds the rollout and resume lifts it; the last promote moves all traffic and stops stable', async () => {
    assert.equal((await daemon().cli(['pause', 'web'])).code, 0);
    assert.equal((await daemon().status()).apps[0]!.rollout?.isPausedByUser, true);
    const resumed = await daemon().cli(['resume', 'web']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /gate/);

    const stable = (await daemon().status()).apps[0]!.instances.filter((i) => i.revision === 1);
    const promote = await daemon().cli(['promote', 'web']);
    assert.equal(promote.code, 0, promote.stderr);
    await waitFor('the canary to be promoted', async () => (await daemon().status()).apps[0]!.rollout?.phase === 'promoted');
    assert.deepEqual((await sample(daemon().origin, 200)).byRevision, { 2: 200 });
    for (const instance of stable) await waitFor(`stable ${instance.id} to stop`, () => !isProcessGroupAlive(instance.pid!));
    assert.deepEqual(
      (await daemon().status()).apps[0]!.traffic.map((t) => [t.revision, t.weight]),
      [[2, 100]],
    );
  });

  it('after abort is acknowledged, no request reaches the aborted revision, not even by route or cookie', async () => {
    const deploy = await daemon().cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=3']);
    assert.equal(deploy.code, 0, deploy.stderr);
    await untilStep(daemon(), 1);
    const abort = await daemon().cli(['abort', 'web']);
    assert.equal(abort.code, 0, abort.stderr);
    assert.deepEqual((await sample(daemon().origin, 1_000)).byRevision, { 2: 1_000 });
    assert.deepEqual((await sample(daemon().origin, 100, { headers: { 'x-beta': '1', cookie: 'beta=yes' } })).byRevision, { 2: 100 });
    const status = (await daemon().status()).apps[0]!;
    assert.equal(status.rollout?.phase, 'aborted');
    assert.equal(status.revision, 2);
  });
});

describe('canary mirroring', () => {
  const daemon = givenDaemon((port) =>
    sampleAppConfig(port, {
      replicas: 1,
      strategy: 'canary: { steps: [{ setWeight: 0 }, { pause: {} }], mirror: { percent: 50 }, abortScaleDownDelay: 0s }',
    }),
  );

  // The failing canary first: copies held by a slow one occupy the mirror slots until they time out.
  for (const misbehave of ['reset', 'slow:30000']) {
    it(`answers clients from stable only while copies go to a canary that is ${misbehave.startsWith('slow') ? 'slow' : 'failing'}`, async () => {
      const log = path.join(daemon().dir, `requests-${misbehave.replace(':', '-')}.log`);
      const deploy = await daemon().cli([
        'deploy',
        '--detach',
        '--set',
        `web.run.env.VERSION=${misbehave}`,
        '--set',
        `web.run.env.MISBEHAVE=${misbehave}`,
        '--set',
        `web.run.env.RECORD_REQUESTS=${log}`,
      ]);
      assert.equal(deploy.code, 0, deploy.stderr);
      await untilStep(daemon(), 1);

      const stable = String((await daemon().status()).apps[0]!.revision);
      const result = await sample(daemon().origin, 200, { connections: 4 });
      assert.deepEqual(result.byRevision, { [stable]: 200 }, 'every answer came from stable, none failed');

      const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
      const arrived = lines.filter((l) => l.startsWith('arrived GET / '));
      assert.ok(arrived.length >= 10, `the canary saw ${arrived.length} copies`);
      assert.ok(
        arrived.every((l) => l.endsWith('mirror=1')),
        'copies are marked x-cutover-mirror: 1',
      );
      if (misbehave.startsWith('slow')) {
        // All 200 answers came back while the canary still held every copy: copies never delay the real request.
        assert.equal(lines.filter((l) => l.startsWith('answered')).length, 0);
      }
      const abort = await daemon().cli(['abort', 'web']);
      assert.equal(abort.code, 0, abort.stderr);
    });
  }
});
