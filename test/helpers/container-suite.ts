import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { LoadClient } from '../../src/loadgen/load-client.js';
import { findFreePort } from '../../src/runtime/local/free-port.js';
import { DaemonFixture, waitFor } from './daemon-fixture.js';
import { containersOf, deriveDemoImage, importDemoImage, type TestEngine } from './container-engines.js';

export const IMAGE = 'localhost/cutover-demo';

/** The demo app as a container app: host networking (or the `network` lines given), the image's own command, fast checks. */
export function containerConfig(
  port: number,
  strategy: string,
  options: { network?: readonly string[]; replicas?: number; env?: Record<string, string> } = {},
): string {
  const env = { KEEPALIVE_MS: '1000', ...options.env };
  return [
    'apps:',
    '  web:',
    `    listen: 127.0.0.1:${port}`,
    '    runtime:',
    '      container:',
    `        image: ${IMAGE}:v1`,
    '        engine: auto',
    ...(options.network ?? ['network: host']).map((line) => `        ${line}`),
    '    run:',
    `      env: ${JSON.stringify(env)}`,
    `    replicas: ${options.replicas ?? 3}`,
    // Generous checks: engines are slow to start containers on a loaded machine, and a check that times out there is no finding.
    '    health: { path: /healthz, interval: 200ms, timeout: 5s, unhealthyThreshold: 5, startupTimeout: 60s }',
    '    drainTimeout: 10s',
    '    stopTimeout: 5s',
    '    strategy:',
    `      ${strategy}`,
    '',
  ].join('\n');
}

export const ROLLING = 'rolling: { maxSurge: 1, maxUnavailable: 0 }';
const BLUE_GREEN = 'blueGreen: { autoPromote: 0s, scaleDownDelay: 0s, abortScaleDownDelay: 0s }';
const CANARY = 'canary: { steps: [{ setWeight: 34 }, { pause: 1s }, { setWeight: 67 }, { pause: 1s }], abortScaleDownDelay: 0s }';

/**
 * Every scenario of issue 18 against one real engine: deploys under load (rolling, blue-green,
 * canary), a bad image, a container that exits at once, adoption after the controller is
 * killed (and a stray container removed), logs, and `down` leaving no container behind.
 */
export function describeContainerSuite(name: 'docker' | 'podman', startEngine: () => Promise<TestEngine | { skip: string }>): void {
  describe(`container apps on ${name} (host network)`, () => {
    let engine: TestEngine | null = null;
    let skip: string | null = null;
    let daemon: DaemonFixture | null = null;
    const ids: Record<string, string> = {};

    before(async () => {
      const started = await startEngine();
      if ('skip' in started) {
        skip = started.skip;
        return;
      }
      engine = started;
      ids['1'] = importDemoImage(engine, `${IMAGE}:v1`, '1');
      for (const version of ['2', '3', '4']) ids[version] = deriveDemoImage(engine, `${IMAGE}:v1`, `${IMAGE}:v${version}`, version);
      // `up --detach` waits 30 s for the daemon; on a machine this loaded its start alone can take that long.
      for (let attempt = 1; daemon === null; attempt++) {
        try {
          daemon = await DaemonFixture.start((port) => containerConfig(port, ROLLING), { env: engine.env });
        } catch (error) {
          if (attempt === 3 || !/did not answer within/.test(String(error))) throw error;
          console.log(`# ${name}: cutover up attempt ${attempt} timed out; trying again`);
        }
      }
    });
    after(async () => {
      await daemon?.stop();
      await engine?.stop();
    });

    const given = (t: TestContext): { engine: TestEngine; daemon: DaemonFixture } | null => {
      if (skip !== null) {
        t.skip(skip);
        return null;
      }
      return { engine: engine!, daemon: daemon! };
    };

    /** Deploys under 16 keep-alive clients; asserts the load ran and nothing failed; returns what it measured. */
    async function deployUnderLoad(d: DaemonFixture, args: string[], what: string): Promise<void> {
      const load = new LoadClient({ origin: d.origin, clients: 8, maxDurationMs: 300_000 });
      load.start();
      const result = await d.cli(['deploy', ...args]);
      const report = await load.stop();
      console.log(`# ${name} ${what}: ${report.requests} requests, ${report.failed} failed`);
      assert.equal(result.code, 0, `deploy exited ${result.code}: ${result.stdout}\n${result.stderr}\n${d.logTail()}`);
      assert.ok(report.requests > 100, `only ${report.requests} requests were sent`);
      assert.deepEqual(report.failures, [], `failed requests: ${JSON.stringify(report.failures)}`);
      assert.equal(report.failed, 0);
    }

    async function servedVersions(d: DaemonFixture, count = 30): Promise<Set<string>> {
      const seen = new Set<string>();
      for (let n = 0; n < count; n++) {
        const body = await (await fetch(`${d.origin}/`)).text();
        seen.add(/v(\w+)/.exec(body)?.[1] ?? body);
      }
      return seen;
    }

    it('runs the first revision as 3 labelled containers of the image ID, with their output in cutover logs', async (t) => {
      const g = given(t);
      if (!g) return;
      const status = await g.daemon.status();
      assert.equal(status.apps[0]!.instances.filter((i) => i.state === 'ready').length, 3, g.daemon.logTail());
      assert.equal(containersOf(g.engine, g.daemon.dataDir).length, 3);
      const image = g.engine.run(['inspect', '--format', '{{.Image}}', containersOf(g.engine, g.daemon.dataDir)[0]!]).trim();
      assert.equal(image.startsWith('sha256:') ? image : `sha256:${image}`, ids['1']);
      assert.deepEqual(await servedVersions(g.daemon), new Set(['1']));
      await waitFor('the containers output in the log', async () => /listening on/.test((await g.daemon.cli(['logs', 'web'])).stdout), 10_000);
    });

    it('rolls to a new image under load with 0 failed requests; history shows tag and image ID', async (t) => {
      const g = given(t);
      if (!g) return;
      await deployUnderLoad(g.daemon, ['--set', `web.runtime.container.image=${IMAGE}:v2`], 'rolling v1→v2');
      assert.deepEqual(await servedVersions(g.daemon), new Set(['2']));
      // A tag moved later changes nothing the revision runs.
      g.engine.run(['tag', `${IMAGE}:v3`, `${IMAGE}:v2`]);
      const history = await g.daemon.client.history('web');
      assert.deepEqual(
        history.revisions.map((r) => [r.image?.tag, r.image?.id]),
        [
          [`${IMAGE}:v1`, ids['1']],
          [`${IMAGE}:v2`, ids['2']],
        ],
      );
      const printed = await g.daemon.cli(['history', 'web']);
      assert.match(printed.stdout, new RegExp(`${IMAGE}:v2\\s+${ids['2']}`));
      await waitFor('the old containers removed', () => containersOf(g.engine, g.daemon.dataDir).length === 3, 30_000);
    });

    it('switches blue-green under load with 0 failed requests (the moved tag is a new revision)', async (t) => {
      const g = given(t);
      if (!g) return;
      g.daemon.writeConfig(containerConfig(g.daemon.port, BLUE_GREEN));
      await deployUnderLoad(g.daemon, ['--set', `web.runtime.container.image=${IMAGE}:v2`], 'blue-green v2→v3 (moved tag)');
      assert.deepEqual(await servedVersions(g.daemon), new Set(['3']));
      await waitFor('blue removed', () => containersOf(g.engine, g.daemon.dataDir).length === 3, 30_000);
    });

    it('runs a canary to the end under load with 0 failed requests', async (t) => {
      const g = given(t);
      if (!g) return;
      g.daemon.writeConfig(containerConfig(g.daemon.port, CANARY));
      await deployUnderLoad(g.daemon, ['--set', `web.runtime.container.image=${IMAGE}:v4`], 'canary v3→v4');
      assert.deepEqual(await servedVersions(g.daemon), new Set(['4']));
      await waitFor('the stable revision removed', () => containersOf(g.engine, g.daemon.dataDir).length === 3, 30_000);
    });

    it("fails the deploy of an image that cannot be pulled, with the engine's words, and keeps serving", async (t) => {
      const g = given(t);
      if (!g) return;
      // A registry on a loopback port nothing listens on: the pull really is tried, and refused.
      const closedPort = await findFreePort();
      const result = await g.daemon.cli(['deploy', '--set', `web.runtime.container.image=127.0.0.1:${closedPort}/nope:v1`]);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /IMAGE_UNAVAILABLE|could not pull/);
      assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${closedPort}`));
      assert.match(result.stderr, /connection refused|connect/i, 'the engine said why');
      const history = await g.daemon.client.history('web');
      assert.equal(history.revisions.length, 4, 'no revision was made');
      assert.deepEqual(await servedVersions(g.daemon, 10), new Set(['4']));
    });

    it('rolls back a container that exits at once, quoting its last output, and leaves no container of it', async (t) => {
      const g = given(t);
      if (!g) return;
      g.daemon.writeConfig(containerConfig(g.daemon.port, ROLLING));
      const result = await g.daemon.cli(['deploy', '--set', 'web.run.env.BROKEN=exit-at-once']);
      assert.equal(result.code, 1, result.stdout);
      assert.match(`${result.stdout}\n${result.stderr}`, /giving up before listening/);
      assert.deepEqual(await servedVersions(g.daemon, 10), new Set(['4']));
      await waitFor('only the stable containers left', () => containersOf(g.engine, g.daemon.dataDir).length === 3, 30_000);
    });

    it('adopts its containers after the controller is SIGKILLed, with 0 failed requests, and removes one no rollout owns', async (t) => {
      const g = given(t);
      if (!g) return;
      // Status also lists the failed instance the previous test's rollback left: it is not running.
      const before = (await g.daemon.status()).apps[0]!.instances.filter((i) => i.state !== 'failed')
        .map((i) => i.id)
        .sort();
      const containersBefore = containersOf(g.engine, g.daemon.dataDir).sort();
      // A container of this data dir that no record names, as a controller killed between run and record leaves.
      g.engine.run([
        'run',
        '--detach',
        '--network',
        'host',
        '--label',
        `cutover.data-dir=${g.daemon.dataDir}`,
        '--label',
        'cutover.instance=web-9-stray0',
        '--env',
        `PORT=${await findFreePort()}`,
        ids['1']!,
      ]);
      assert.equal(containersOf(g.engine, g.daemon.dataDir).length, 4, 'the stray container runs');
      const load = new LoadClient({ origin: g.daemon.origin, clients: 8, maxDurationMs: 120_000 });
      load.start();
      // As killController does, with more patience: a new controller takes ~30 s to start on a machine this loaded.
      const { pid: killed } = await g.daemon.client.health();
      process.kill(killed, 'SIGKILL');
      await waitFor('a new controller', async () => ((await g.daemon.client.health().catch(() => null))?.pid ?? killed) !== killed, 120_000);
      await waitFor('the stray container removed', () => containersOf(g.engine, g.daemon.dataDir).length === 3, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const report = await load.stop();
      console.log(`# ${name} controller SIGKILL: ${report.requests} requests, ${report.failed} failed`);
      assert.ok(report.requests > 50, `only ${report.requests} requests were sent`);
      assert.equal(report.failed, 0, JSON.stringify(report.failures));
      const after = (await g.daemon.status()).apps[0]!.instances.filter((i) => i.state !== 'failed');
      assert.deepEqual(after.map((i) => i.id).sort(), before, 'the same instances');
      assert.ok(
        after.every((i) => i.state === 'ready'),
        `instances after adoption: ${JSON.stringify(after.map((i) => ({ id: i.id, state: i.state, reason: i.reason ?? null })))}\n${g.daemon.logTail(30)}`,
      );
      assert.deepEqual(containersOf(g.engine, g.daemon.dataDir).sort(), containersBefore, 'the same containers');
      assert.match(g.daemon.logTail(200), /web-9-stray0: removed its container/);
    });

    it('leaves no container behind after cutover down', async (t) => {
      const g = given(t);
      if (!g) return;
      assert.equal(containersOf(g.engine, g.daemon.dataDir).length, 3);
      const down = await g.daemon.cli(['down']);
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(containersOf(g.engine, g.daemon.dataDir), []);
      assert.ok(fs.existsSync(g.daemon.dataDir));
    });
  });
}
