import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CutoverClient } from '../../src/api/client.js';
import { LoadClient, type LoadReport } from '../../src/loadgen/load-client.js';
import { createKubeClients, type KubeClients } from '../../src/runtime/kubernetes/kube-clients.js';
import { runCli } from './daemon-fixture.js';
import { KUBE_API_LEVEL, KubeControlPlane, kubeControlPlaneSkip } from './kube-control-plane.js';
import { KubeNode, kubeNodeSkip, NODE_IMAGE } from './kube-node.js';
import { waitFor } from './daemon-fixture.js';

/**
 * cutover on a real node (issue 23): real pods (dockershim on our own dockerd), a real
 * scheduler, and kube-proxy in iptables mode routing a NodePort on 127.0.0.1 to the pods. Every
 * scenario runs under keep-alive load through the Service and must lose no request. The
 * scenarios are split over two test files, each with a node of its own, so that each file ends
 * within `npm test`'s 240 s per file.
 */
const skip = kubeControlPlaneSkip || kubeNodeSkip;
const namespace = 'node';
const MIN_REQUESTS = 200;
/** Starting the control plane and the node and the first pods: more than a test's usual 240 s on a busy machine. */
const SETUP_TIMEOUT_MS = 600_000;

export type RealNodeScenario = 'rolling' | 'blue-green' | 'canary' | 'abort' | 'controller-kill' | 'rollback';

/** The real-node suite with the scenarios given, in this order: rolling, blue-green, canary, abort, controller kill, rollback. */
export function describeRealNode(part: string, scenarios: readonly RealNodeScenario[]): void {
  describe(`cutover on a real node, ${part} (kubelet, kube-proxy, ${KUBE_API_LEVEL})`, { skip }, () => {
    const scenario = (key: RealNodeScenario, name: string, fn: () => Promise<void>): void => {
      if (scenarios.includes(key)) it(name, fn);
    };

    let plane: KubeControlPlane;
    let node: KubeNode;
    let clients: KubeClients;
    let dir: string;
    let origin: string;
    let tag = 1;
    const figures: string[] = [];

    const cli = (...args: string[]) => runCli([...args, '-c', path.join(dir, 'cutover.yaml')], { env: { KUBECONFIG: plane.kubeconfigPath } });
    const writeConfig = (image: string, strategy: string) =>
      fs.writeFileSync(
        path.join(dir, 'cutover.yaml'),
        [
          'metrics: { listen: false }',
          'apps:',
          '  web:',
          '    replicas: 2',
          `    runtime: { kubernetes: { namespace: ${namespace}, image: "${image}", port: 8080, podTemplate: ${JSON.stringify(path.join(dir, 'pod.yaml'))} } }`,
          '    health: { path: /healthz, interval: 1s, timeout: 1s }',
          `    strategy: ${strategy}`,
          '',
        ].join('\n'),
      );
    /** A new image tag of the same image: a new revision. */
    const nextImage = (): string => {
      tag += 1;
      node.docker(['tag', NODE_IMAGE, `cutover-test/node:${tag}`]);
      return `cutover-test/node:${tag}`;
    };

    before(
      async () => {
        if (skip) return;
        plane = await KubeControlPlane.start(fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-kube-')));
        node = await KubeNode.start(fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-node-')), plane);
        await plane.createNamespace(namespace);
        clients = createKubeClients({ server: plane.server, token: plane.token, namespace });
        // The Service clients reach: a NodePort, bound by kube-proxy on 127.0.0.0/8 only.
        const service = await clients.core.createNamespacedService({
          namespace,
          body: {
            metadata: { name: 'web' },
            spec: { type: 'NodePort', selector: { 'app.kubernetes.io/name': 'web' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
          },
        });
        origin = `http://127.0.0.1:${service.spec!.ports![0]!.nodePort}`;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-node-app-'));
        fs.writeFileSync(
          path.join(dir, 'pod.yaml'),
          [
            'spec:',
            '  automountServiceAccountToken: false',
            '  enableServiceLinks: false',
            '  terminationGracePeriodSeconds: 15',
            '  containers:',
            '    - name: web',
            '      imagePullPolicy: Never',
            '      command: [/usr/bin/node, /app/server.js]',
            '      env:',
            '        - { name: PORT, value: "8080" }',
            '        - { name: HOST, value: "0.0.0.0" }',
            '        - { name: SIGTERM_DRAIN_MS, value: "3000" }',
            '',
          ].join('\n'),
        );
        writeConfig(NODE_IMAGE, '{ rolling: { maxSurge: 1, maxUnavailable: 0 } }');
        const up = await cli('up', '--detach');
        assert.equal(up.code, 0, up.stderr);
        await waitFor('the Service to answer', () => answers(origin), 120_000);
      },
      { timeout: SETUP_TIMEOUT_MS },
    );
    after(async () => {
      if (dir) {
        await cli('down');
        console.log(`# ${figures.join('; ')}`);
        fs.rmSync(dir, { recursive: true, force: true });
      }
      await node?.stop();
      await plane?.stop();
    });

    async function underLoad(name: string, scenario: () => Promise<void>): Promise<LoadReport> {
      const load = new LoadClient({ origin, clients: 16, postShare: 0.2, pauseMs: 10, maxDurationMs: 240_000 });
      load.start();
      let report: LoadReport | null = null;
      try {
        await waitFor('the load to flow', () => load.snapshot().requests > 50, 30_000);
        await scenario();
        await waitFor(`${MIN_REQUESTS} requests`, () => load.snapshot().requests >= MIN_REQUESTS);
      } finally {
        report = await load.stop();
        figures.push(`${name}: ${report.requests} requests, ${report.failed} failed`);
      }
      assert.deepEqual(report.failures, [], `${name}: ${report.failed} of ${report.requests} failed`);
      return report;
    }

    async function deploy(strategy: string, extra: string[] = [], expectedCode = 0): Promise<void> {
      writeConfig(nextImage(), strategy);
      const result = await cli('deploy', ...extra);
      assert.equal(result.code, expectedCode, `${result.stdout}\n${result.stderr}`);
    }

    /** Waits until the app's rollout reached `phase`; the next deploy is refused while one runs. */
    async function waitForPhase(phase: string): Promise<void> {
      await waitFor(
        `the rollout to be ${phase}`,
        async () => {
          const status = JSON.parse((await cli('status', '--json')).stdout) as { apps: { rollout: { phase: string } | null }[] };
          return status.apps[0]!.rollout?.phase === phase;
        },
        180_000,
      );
    }

    async function waitForGate(): Promise<void> {
      await waitFor(
        'a gate',
        async () => {
          const status = JSON.parse((await cli('status', '--json')).stdout) as { apps: { rollout: { phase: string; gate: unknown } | null }[] };
          return status.apps[0]!.rollout?.phase === 'paused' && status.apps[0]!.rollout.gate !== null;
        },
        120_000,
      );
    }

    scenario('rolling', 'rolling: 0 failed', async () => {
      await underLoad('rolling', () => deploy('{ rolling: { maxSurge: 1, maxUnavailable: 0 } }'));
    });

    scenario('blue-green', 'blue-green (selector switch): 0 failed', async () => {
      await underLoad('blue-green', () => deploy('{ blueGreen: { autoPromote: 0s, scaleDownDelay: 2s } }'));
    });

    scenario('canary', 'canary by replica ratio, promoted: 0 failed', async () => {
      await underLoad('canary', async () => {
        await deploy('{ canary: { steps: [{ setWeight: 50 }, { pause: {} }] } }', ['--detach']);
        await waitForGate();
        const promoted = await cli('promote', 'web', '--full');
        assert.equal(promoted.code, 0, promoted.stderr);
        await waitForPhase('promoted');
      });
    });

    scenario('abort', 'canary aborted at its gate: 0 failed', async () => {
      await underLoad('abort', async () => {
        await deploy('{ canary: { steps: [{ setWeight: 50 }, { pause: {} }] } }', ['--detach']);
        await waitForGate();
        const aborted = await cli('abort', 'web');
        assert.equal(aborted.code, 0, aborted.stderr);
        await waitForPhase('aborted');
      });
    });

    scenario('controller-kill', 'a controller SIGKILL during a rolling deploy: 0 failed, and the rollout ends promoted', async () => {
      const client = new CutoverClient({ socketPath: path.join(dir, '.cutover', 'cutover.sock') });
      await underLoad('controller SIGKILL', async () => {
        writeConfig(nextImage(), '{ rolling: { maxSurge: 1, maxUnavailable: 0 } }');
        const started = await cli('deploy', '--detach');
        assert.equal(started.code, 0, started.stderr);
        const { pid } = await client.health();
        process.kill(pid, 'SIGKILL');
        await waitFor('a new controller', async () => ((await client.health().catch(() => null))?.pid ?? pid) !== pid, 60_000);
        await waitForPhase('promoted');
      });
    });

    scenario('rollback', 'rollback: 0 failed', async () => {
      await underLoad('rollback', async () => {
        const rolledBack = await cli('rollback', 'web');
        assert.equal(rolledBack.code, 0, rolledBack.stderr);
      });
    });
  });
}

function answers(origin: string): Promise<boolean> {
  return fetch(origin)
    .then((response) => response.ok)
    .catch(() => false);
}
