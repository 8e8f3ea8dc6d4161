/**
 * A real Kubernetes control plane for integration tests (layer (c) of KUBERNETES-TESTING.md):
 * etcd from Debian's etcd-server, and kube-apiserver plus kube-controller-manager v1.20.2 built
 * from Debian's `kubernetes` source package by `.ci/build-kube-apiserver`. Everything listens on
 * free loopback ports, runs in its own process group and is stopped by pid.
 *
 * There is no scheduler, kubelet or kube-proxy: `FakeKubelet` (fake-kubelet.ts) binds pods and
 * sets their readiness. API level v1.20: no CEL rules on CRDs, no strict field validation.
 *
 * @example
 * const plane = await KubeControlPlane.start(dir);
 * const clients = createKubeClients({ server: plane.server, token: plane.token, namespace: 'shop' });
 * await plane.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiextensionsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { findFreePort } from '../../src/runtime/local/free-port.js';
import { loadKubeConfig, statusOf } from '../../src/runtime/kubernetes/kube-clients.js';
import { externalFile, externalProgram } from './external-program.js';

/** The API level of the server the integration suites run against; test names carry it. */
export const KUBE_API_LEVEL = 'kube-apiserver v1.20 (Debian source build)';

const START_TIMEOUT_MS = 90_000;

/** Where `.ci/build-kube-apiserver` caches the binaries (CUTOVER_KUBE_BIN_DIR overrides). */
export function kubeBinDirs(): string[] {
  if (process.env.CUTOVER_KUBE_BIN_DIR) return [process.env.CUTOVER_KUBE_BIN_DIR];
  const cacheRoot = process.env.CUTOVER_KUBE_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cutover');
  return [path.join(cacheRoot, 'kube-current', 'bin')];
}

function findBinaries(): { etcd: string; apiserver: string; controllerManager: string } | { skip: string } {
  const etcd = externalProgram('etcd', 'etcd-server');
  if ('skip' in etcd) return etcd;
  const build = 'build them with .ci/build-kube-apiserver (about 7 minutes, cached)';
  const apiserver = externalFile('kube-apiserver', kubeBinDirs(), `kube-apiserver v1.20 is not built in ${kubeBinDirs().join(':')}: ${build}`);
  if ('skip' in apiserver) return apiserver;
  const controllerManager = externalFile(
    'kube-controller-manager',
    kubeBinDirs(),
    `kube-controller-manager is not built in ${kubeBinDirs().join(':')}: ${build}`,
  );
  if ('skip' in controllerManager) return controllerManager;
  return { etcd: etcd.path, apiserver: apiserver.path, controllerManager: controllerManager.path };
}

const found = findBinaries();

/** Why the real-apiserver suites skip (binaries missing off CI), or false. Under CI a missing binary throws instead. */
export const kubeControlPlaneSkip: string | false = 'skip' in found ? `skipped: ${found.skip}` : false;

/** Process groups still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

export class KubeControlPlane {
  private constructor(
    /** https://127.0.0.1:PORT; its certificate is self-signed (clients skip verification). */
    readonly server: string,
    /** Bearer token of a system:masters user. */
    readonly token: string,
    /** A kubeconfig file for this server (context `cutover-test`). */
    readonly kubeconfigPath: string,
    private readonly children: ChildProcess[],
    private readonly dir: string,
  ) {}

  static async start(dir: string): Promise<KubeControlPlane> {
    if ('skip' in found) throw new Error(found.skip);
    fs.mkdirSync(dir, { recursive: true });
    const children: ChildProcess[] = [];
    try {
      const [etcdPort, peerPort, apiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
      const etcdUrl = `http://127.0.0.1:${etcdPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      children.push(
        startGroup(dir, 'etcd', found.etcd, [
          `--data-dir=${path.join(dir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=${peerUrl}`,
          `--initial-advertise-peer-urls=${peerUrl}`,
          `--initial-cluster=default=${peerUrl}`,
        ]),
      );

      const token = randomBytes(16).toString('hex');
      const tokensFile = path.join(dir, 'tokens.csv');
      fs.writeFileSync(tokensFile, `${token},admin,admin,system:masters\n`, { mode: 0o600 });
      const keyFile = path.join(dir, 'service-account.key');
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      fs.writeFileSync(keyFile, privateKey, { mode: 0o600 });
      const certDir = path.join(dir, 'certs');
      children.push(
        startGroup(dir, 'kube-apiserver', found.apiserver, [
          `--etcd-servers=${etcdUrl}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${apiPort}`,
          '--insecure-port=0',
          `--cert-dir=${certDir}`,
          `--token-auth-file=${tokensFile}`,
          '--authorization-mode=RBAC',
          '--service-account-issuer=https://kubernetes.default.svc',
          `--service-account-key-file=${keyFile}`,
          `--service-account-signing-key-file=${keyFile}`,
          '--service-cluster-ip-range=10.96.0.0/16',
        ]),
      );
      const server = `https://127.0.0.1:${apiPort}`;
      await waitUntil(() => isReady(server, token), children, dir, 'kube-apiserver /readyz');

      const kubeconfigPath = path.join(dir, 'kubeconfig');
      fs.writeFileSync(
        kubeconfigPath,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{ name: test, cluster: { server: "' + server + '", insecure-skip-tls-verify: true } }]',
          'users: [{ name: admin, user: { token: "' + token + '" } }]',
          'contexts: [{ name: cutover-test, context: { cluster: test, user: admin } }]',
          'current-context: cutover-test',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      children.push(
        startGroup(dir, 'kube-controller-manager', found.controllerManager, [
          `--kubeconfig=${kubeconfigPath}`,
          '--leader-elect=false',
          '--port=0',
          '--secure-port=0',
          // Without serviceaccount-token no pod is ever created (the ServiceAccount admission waits for the token).
          '--controllers=deployment,replicaset,garbagecollector,serviceaccount,serviceaccount-token,namespace,endpoint,endpointslice',
          `--service-account-private-key-file=${keyFile}`,
          `--root-ca-file=${path.join(certDir, 'apiserver.crt')}`,
        ]),
      );
      return new KubeControlPlane(server, token, kubeconfigPath, children, dir);
    } catch (error) {
      await stopAll(children);
      throw error;
    }
  }

  /** Creates a namespace and waits until pods can be made in it (its default ServiceAccount has a token). */
  async createNamespace(name: string): Promise<void> {
    const core = loadKubeConfig({ server: this.server, token: this.token }).makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name } } });
    await waitUntil(
      async () => {
        try {
          const account = await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
          return (account.secrets?.length ?? 0) > 0;
        } catch (error) {
          if (statusOf(error) === 404) return false;
          throw error;
        }
      },
      this.children,
      this.dir,
      `the default ServiceAccount of namespace ${name}`,
    );
  }

  /**
   * Installs a trimmed Gateway API HTTPRoute CRD of our own (v1, OpenAPI schema only): the
   * official CRDs rely on CEL, which a v1.20 server silently drops. Weights are checked (0…1000000).
   */
  async installHttpRouteCrd(): Promise<void> {
    const api = loadKubeConfig({ server: this.server, token: this.token }).makeApiClient(ApiextensionsV1Api);
    const name = 'httproutes.gateway.networking.k8s.io';
    const ref = {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, port: { type: 'integer' }, weight: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 1 } },
    };
    const header = {
      type: 'object',
      required: ['name', 'value'],
      properties: { type: { type: 'string', enum: ['Exact', 'RegularExpression'] }, name: { type: 'string' }, value: { type: 'string' } },
    };
    await api.createCustomResourceDefinition({
      body: {
        metadata: { name, annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/1538' } },
        spec: {
          group: 'gateway.networking.k8s.io',
          scope: 'Namespaced',
          names: { plural: 'httproutes', singular: 'httproute', kind: 'HTTPRoute', listKind: 'HTTPRouteList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      properties: {
                        parentRefs: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
                        rules: {
                          type: 'array',
                          items: {
                            type: 'object',
                            properties: {
                              matches: { type: 'array', items: { type: 'object', properties: { headers: { type: 'array', items: header } } } },
                              backendRefs: { type: 'array', items: ref },
                            },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    await waitUntil(
      async () => {
        const crd = await api.readCustomResourceDefinition({ name });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
      },
      this.children,
      this.dir,
      'the HTTPRoute CRD to be established',
    );
  }

  /** Stops controller-manager, apiserver and etcd (their process groups, by pid) and removes their files. */
  async stop(): Promise<void> {
    await stopAll([...this.children].reverse());
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function startGroup(dir: string, name: string, program: string, args: string[]): ChildProcess {
  const log = fs.openSync(path.join(dir, `${name}.log`), 'a');
  const child = spawn(program, args, { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Gone already.
  }
}

export async function stopAll(children: ChildProcess[]): Promise<void> {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    killGroup(child, 'SIGKILL');
    await exited;
  }
}

export async function waitUntil(check: () => Promise<boolean>, children: ChildProcess[], dir: string, what: string): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  for (;;) {
    const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead) throw new Error(`${path.basename(String(dead.spawnfile))} exited while waiting for ${what}: ${tailOfLogs(dir)}`);
    if (await check().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}: ${tailOfLogs(dir)}`);
    await sleep(100);
  }
}

function tailOfLogs(dir: string): string {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => `--- ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8').slice(-1500)}`)
    .join('\n');
}

function isReady(server: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = https.get(`${server}/readyz`, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.setTimeout(2000, () => request.destroy());
  });
}
