import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { LoadClient } from '../../src/loadgen/load-client.js';
import { DaemonFixture, waitFor } from './daemon-fixture.js';
import { containersOf, deriveDemoImage, importDemoImage, type TestEngine } from './container-engines.js';
import { containerConfig, IMAGE, ROLLING } from './container-suite.js';

/** The port the demo app listens on inside its container; cutover publishes it on a free 127.0.0.1 port per instance. */
const INSIDE_PORT = 3000;
const REPLICAS = 2;
const BRIDGE = ['network: bridge', `port: ${INSIDE_PORT}`];
/** On a bridge the app is reached on the container's own address, not its loopback (the demo app's default). */
const BRIDGE_ENV = { HOST: '0.0.0.0' };

/**
 * Issue 18's `network: bridge` against one real engine, in the test's own network namespace
 * (the engine's bridge exists only there): the first revision runs bridged with its inside
 * port published on 127.0.0.1, a rolling deploy to a new image under load fails no request, a container listening on its own loopback fails saying so,
 * and `down` leaves no container.
 */
export function describeContainerBridgeSuite(name: 'docker' | 'podman', startEngine: () => Promise<TestEngine | { skip: string }>): void {
  describe(`container apps on ${name} (bridge network)`, () => {
    let engine: TestEngine | null = null;
    let skip: string | null = null;
    let daemon: DaemonFixture | null = null;

    before(async () => {
      const started = await startEngine();
      if ('skip' in started) {
        skip = started.skip;
        return;
      }
      engine = started;
      importDemoImage(engine, `${IMAGE}:v1`, '1');
      deriveDemoImage(engine, `${IMAGE}:v1`, `${IMAGE}:v2`, '2');
      daemon = await DaemonFixture.start((port) => containerConfig(port, ROLLING, { network: BRIDGE, replicas: REPLICAS, env: BRIDGE_ENV }), {
        env: engine.env,
      });
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

    /** Each running container is bridged, with its inside port published on 127.0.0.1 at the port cutover routes to. */
    async function assertBridged(g: { engine: TestEngine; daemon: DaemonFixture }): Promise<void> {
      const ready = (await g.daemon.status()).apps[0]!.instances.filter((i) => i.state === 'ready');
      assert.equal(ready.length, REPLICAS, g.daemon.logTail());
      const published: number[] = [];
      for (const id of containersOf(g.engine, g.daemon.dataDir)) {
        const mode = g.engine.run(['inspect', '--format', '{{.HostConfig.NetworkMode}}', id]).trim();
        assert.equal(mode, 'bridge', `container ${id} runs in network mode ${mode}`);
        const ports = JSON.parse(g.engine.run(['inspect', '--format', '{{json .NetworkSettings.Ports}}', id])) as Record<
          string,
          { HostIp: string; HostPort: string }[] | null
        >;
        const bindings = ports[`${INSIDE_PORT}/tcp`] ?? [];
        assert.equal(bindings.length, 1, `container ${id} publishes ${JSON.stringify(ports)}`);
        assert.equal(bindings[0]!.HostIp, '127.0.0.1');
        published.push(Number(bindings[0]!.HostPort));
      }
      assert.deepEqual(published.sort(), ready.map((i) => i.port).sort(), 'cutover routes to the published ports');
      for (const port of published) assert.notEqual(port, INSIDE_PORT);
    }

    async function servedVersions(d: DaemonFixture, count = 20): Promise<Set<string>> {
      const seen = new Set<string>();
      for (let n = 0; n < count; n++) {
        const body = await (await fetch(`${d.origin}/`)).text();
        seen.add(/v(\w+)/.exec(body)?.[1] ?? body);
      }
      return seen;
    }

    it(`runs the first revision bridged: port ${INSIDE_PORT} inside, published on a 127.0.0.1 port cutover chose`, async (t) => {
      const g = given(t);
      if (!g) return;
      assert.equal(containersOf(g.engine, g.daemon.dataDir).length, REPLICAS);
      await assertBridged(g);
      assert.deepEqual(await servedVersions(g.daemon), new Set(['1']));
    });

    it('rolls to a new image under load with 0 failed requests, still bridged', async (t) => {
      const g = given(t);
      if (!g) return;
      const load = new LoadClient({ origin: g.daemon.origin, clients: 8, maxDurationMs: 300_000 });
      load.start();
      const result = await g.daemon.cli(['deploy', '--set', `web.runtime.container.image=${IMAGE}:v2`]);
      const report = await load.stop();
      console.log(`# ${name} bridge rolling v1→v2: ${report.requests} requests, ${report.failed} failed`);
      assert.equal(result.code, 0, `deploy exited ${result.code}: ${result.stdout}\n${result.stderr}\n${g.daemon.logTail()}`);
      assert.ok(report.requests > 100, `only ${report.requests} requests were sent`);
      assert.deepEqual(report.failures, [], `failed requests: ${JSON.stringify(report.failures)}`);
      assert.equal(report.failed, 0);
      assert.deepEqual(await servedVersions(g.daemon), new Set(['2']));
      await waitFor('the old containers removed', () => containersOf(g.engine, g.daemon.dataDir).length === REPLICAS, 30_000);
      await assertBridged(g);
    });

    it('fails a container that listens on its own loopback, saying where to listen, and keeps serving', async (t) => {
      const g = given(t);
      if (!g) return;
      const result = await g.daemon.cli(['deploy', '--set', 'web.run.env.HOST=127.0.0.1', '--set', 'web.health.startupTimeout=8s']);
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.match(`${result.stdout}\n${result.stderr}`, new RegExp(`listen on 0\\.0\\.0\\.0:${INSIDE_PORT} inside its container`));
      assert.deepEqual(await servedVersions(g.daemon, 10), new Set(['2']));
      await waitFor('only the stable containers left', () => containersOf(g.engine, g.daemon.dataDir).length === REPLICAS, 30_000);
    });

    it('leaves no container behind after cutover down', async (t) => {
      const g = given(t);
      if (!g) return;
      assert.equal(containersOf(g.engine, g.daemon.dataDir).length, REPLICAS);
      const down = await g.daemon.cli(['down']);
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(containersOf(g.engine, g.daemon.dataDir), []);
    });
  });
}
