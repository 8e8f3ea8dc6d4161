/**
 * A real Kubernetes node for the integration cluster (issue 23): kube-scheduler, a kubelet v1.20
 * with its in-tree dockershim on a dockerd of our own (Debian's docker.io and runc), pods on a
 * CNI bridge this helper creates (Debian's containernetworking-plugins), and kube-proxy in
 * iptables mode with NodePorts on 127.0.0.0/8 only. Test traffic goes to 127.0.0.1:NODEPORT, and
 * kube-proxy forwards it to pod addresses inside network namespaces this node created.
 *
 * No registry is reachable: one image is built locally with `docker import` (Node.js, the
 * libraries `ldd` lists and the demo app); it is the pause image too (its default command idles).
 * Every process runs in its own process group and is stopped by pid; the bridge, the containers
 * and kube-proxy's rules are removed at the end. Needs root.
 *
 * @example
 * const node = await KubeNode.start(dir, plane);
 * // pods with image KubeNode.IMAGE and imagePullPolicy: Never run here
 * await node.stop();
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { findFreePort } from '../../src/runtime/local/free-port.js';
import { loadKubeConfig } from '../../src/runtime/kubernetes/kube-clients.js';
import { externalFile, externalProgram } from './external-program.js';
import { kubeBinDirs, startGroup, stopAll, waitUntil, type KubeControlPlane } from './kube-control-plane.js';
import { repoRoot } from './repo.js';

/** The local image: Node.js and the demo app under /app; its default command idles (the pause container). */
export const NODE_IMAGE = 'cutover-test/node:1';

const CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

function findBinaries(): Record<'scheduler' | 'kubelet' | 'proxy' | 'dockerd' | 'docker' | 'runc' | 'bridge', string> | { skip: string } {
  const build = `build them with .ci/build-kube-apiserver (cached in ${kubeBinDirs().join(':')})`;
  const found: Record<string, string> = {};
  const wanted: [string, () => { path: string } | { skip: string }][] = [
    ['scheduler', () => externalFile('kube-scheduler', kubeBinDirs(), `kube-scheduler is not built: ${build}`)],
    ['kubelet', () => externalFile('kubelet', kubeBinDirs(), `kubelet is not built: ${build}`)],
    ['proxy', () => externalFile('kube-proxy', kubeBinDirs(), `kube-proxy is not built: ${build}`)],
    ['dockerd', () => externalProgram('dockerd', 'docker.io')],
    ['docker', () => externalProgram('docker', 'docker.io')],
    ['runc', () => externalProgram('runc', 'runc')],
    ['bridge', () => externalFile('bridge', CNI_DIRS, 'the CNI bridge plugin is not installed (apt-get install -y containernetworking-plugins)')],
  ];
  for (const [key, find] of wanted) {
    const result = find();
    if ('skip' in result) return result;
    found[key] = result.path;
  }
  if (process.getuid?.() !== 0) {
    const why = 'a kubelet and dockerd need root';
    if (process.env.CUTOVER_REQUIRE_EXTERNAL === '1') throw new Error(`${why}, and CUTOVER_REQUIRE_EXTERNAL=1 requires them`);
    return { skip: why };
  }
  return found as Record<'scheduler' | 'kubelet' | 'proxy' | 'dockerd' | 'docker' | 'runc' | 'bridge', string>;
}

/**
 * The real-node suite runs with CUTOVER_KUBE_NODE=1 (CI sets it): its parts take minutes to
 * build and it starts a dockerd, a kubelet and kube-proxy as root, which a developer may not
 * want from `npm test`. Opted out, nothing is looked for and the suite skips visibly.
 */
const isOptedIn = process.env.CUTOVER_KUBE_NODE === '1';
const found: ReturnType<typeof findBinaries> = isOptedIn
  ? findBinaries()
  : { skip: 'the real-node suite runs only with CUTOVER_KUBE_NODE=1 (see docs/kubernetes.md)' };

/** Why the real-node suites skip, or false. Opted in under CI (CUTOVER_REQUIRE_EXTERNAL=1), a missing part throws instead. */
export const kubeNodeSkip: string | false = 'skip' in found ? `skipped: ${found.skip}` : false;

export class KubeNode {
  private constructor(
    readonly nodeName: string,
    /** The pods' subnet on this node's bridge. */
    readonly podCidr: string,
    private readonly dockerHost: string,
    private readonly bridge: string,
    private readonly children: ChildProcess[],
    private readonly dockerd: ChildProcess,
    private readonly dir: string,
    /** The `KUBE-*` chains that were there before this node started: left alone at its stop. */
    private readonly chainsBefore: ReadonlySet<string>,
  ) {}

  static async start(dir: string, plane: KubeControlPlane): Promise<KubeNode> {
    if ('skip' in found) throw new Error(found.skip);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const suffix = randomBytes(3).toString('hex');
    const nodeName = `cutover-node-${suffix}`;
    const bridge = `co${suffix}`;
    const podCidr = `10.${200 + (parseInt(suffix.slice(0, 2), 16) % 50)}.${parseInt(suffix.slice(2, 4), 16)}.0/24`;
    const dockerSocket = path.join(dir, 'docker.sock');
    const dockerHost = `unix://${dockerSocket}`;
    const dockerd = startGroup(dir, 'dockerd', found.dockerd, [
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
      `--host=${dockerHost}`,
      `--data-root=${path.join(dir, 'docker')}`,
      `--exec-root=${path.join(dir, 'docker-exec')}`,
      `--pidfile=${path.join(dir, 'docker.pid')}`,
      `--add-runtime=cutover-runc=${writeRuncWrapper(dir, found.runc)}`,
      '--default-runtime=cutover-runc',
    ]);
    const children: ChildProcess[] = [];
    const node = new KubeNode(nodeName, podCidr, dockerHost, bridge, children, dockerd, dir, new Set(kubeChains().map((c) => c.key)));
    try {
      await waitUntil(async () => node.docker(['version']) !== null, [dockerd], dir, 'dockerd');
      node.buildImage();
      writeCniConfig(path.join(dir, 'cni', 'net.d'), bridge, podCidr);

      const [kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics] = [
        await findFreePort(),
        await findFreePort(),
        await findFreePort(),
        await findFreePort(),
      ];
      children.push(
        startGroup(dir, 'kube-scheduler', found.scheduler, [`--kubeconfig=${plane.kubeconfigPath}`, '--leader-elect=false', '--port=0', '--secure-port=0']),
      );
      children.push(
        startGroup(dir, 'kubelet', found.kubelet, [
          `--kubeconfig=${plane.kubeconfigPath}`,
          `--hostname-override=${nodeName}`,
          '--container-runtime=docker',
          `--docker-endpoint=${dockerHost}`,
          `--container-runtime-endpoint=unix://${path.join(dir, 'dockershim.sock')}`,
          `--experimental-dockershim-root-directory=${path.join(dir, 'dockershim')}`,
          `--pod-infra-container-image=${NODE_IMAGE}`,
          '--network-plugin=cni',
          `--cni-bin-dir=${CNI_DIRS.join(',')}`,
          `--cni-conf-dir=${path.join(dir, 'cni', 'net.d')}`,
          `--cni-cache-dir=${path.join(dir, 'cni', 'cache')}`,
          `--root-dir=${path.join(dir, 'kubelet')}`,
          `--cert-dir=${path.join(dir, 'kubelet', 'pki')}`,
          `--volume-plugin-dir=${path.join(dir, 'kubelet', 'volume-plugins')}`,
          '--address=127.0.0.1',
          `--port=${kubeletPort}`,
          '--read-only-port=0',
          '--healthz-bind-address=127.0.0.1',
          `--healthz-port=${kubeletHealthz}`,
          '--cgroup-driver=cgroupfs',
          '--cgroups-per-qos=false',
          '--enforce-node-allocatable=',
          '--fail-swap-on=false',
          '--eviction-hard=memory.available<1Mi,nodefs.available<1%,imagefs.available<1%',
          '--image-gc-high-threshold=100',
          '--image-gc-low-threshold=99',
          '--node-status-update-frequency=2s',
          '--hairpin-mode=none',
          '--max-pods=30',
        ]),
      );
      children.push(
        startGroup(dir, 'kube-proxy', found.proxy, [
          `--kubeconfig=${plane.kubeconfigPath}`,
          `--hostname-override=${nodeName}`,
          '--proxy-mode=iptables',
          '--nodeport-addresses=127.0.0.0/8',
          `--cluster-cidr=${podCidr}`,
          `--healthz-bind-address=127.0.0.1:${proxyHealthz}`,
          `--metrics-bind-address=127.0.0.1:${proxyMetrics}`,
          '--conntrack-max-per-core=0',
          '--iptables-min-sync-period=0s',
        ]),
      );
      const core = loadKubeConfig({ server: plane.server, token: plane.token }).makeApiClient(CoreV1Api);
      await waitUntil(
        async () => {
          const found = await core.readNode({ name: nodeName });
          return found.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        },
        [dockerd, ...children],
        dir,
        `node ${nodeName} to be Ready`,
      );
      // The kubelet registers its node tainted not-ready; the node lifecycle controller, which
      // this small control plane does not run, lifts the taint once the node is Ready.
      const ready = await core.readNode({ name: nodeName });
      ready.spec = { ...ready.spec, taints: (ready.spec?.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/not-ready') };
      await core.replaceNode({ name: nodeName, body: ready });
      return node;
    } catch (error) {
      await node.stop(false);
      throw error;
    }
  }

  /** Runs `docker` against this node's dockerd; null when it fails. */
  docker(args: string[]): string | null {
    try {
      return execFileSync((found as { docker: string }).docker, args, {
        env: { ...process.env, DOCKER_HOST: this.dockerHost },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch {
      return null;
    }
  }

  /** Builds NODE_IMAGE from this machine's Node.js, its libraries and the demo app (no registry needed). */
  private buildImage(): void {
    const root = path.join(this.dir, 'image');
    const files = [process.execPath, ...sharedLibraries(process.execPath)];
    for (const file of files) {
      fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
      fs.copyFileSync(fs.realpathSync(file), path.join(root, file));
      fs.chmodSync(path.join(root, file), 0o755);
    }
    fs.mkdirSync(path.join(root, 'app'), { recursive: true });
    fs.copyFileSync(path.join(repoRoot(), 'examples', 'demo', 'server.js'), path.join(root, 'app', 'server.js'));
    fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o1777 });
    const idle = JSON.stringify(['/usr/bin/node', '-e', "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1e9);"]);
    execFileSync((found as { docker: string }).docker, ['import', '--change', `CMD ${idle}`, '-', NODE_IMAGE], {
      env: { ...process.env, DOCKER_HOST: this.dockerHost },
      input: execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 1 << 30 }),
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    fs.rmSync(root, { recursive: true, force: true });
  }

  /**
   * Stops kubelet, kube-proxy and the scheduler, removes the pods' containers, stops dockerd (by
   * pid), deletes the bridge and kube-proxy's rules, and removes the node's files.
   */
  async stop(removeFiles = true): Promise<void> {
    await stopAll([...this.children].reverse());
    const containers = this.docker(['ps', '-aq'])?.split('\n').filter(Boolean) ?? [];
    if (containers.length > 0) this.docker(['rm', '-f', ...containers]);
    if (this.dockerd.exitCode === null && this.dockerd.signalCode === null) {
      const exited = new Promise((resolve) => this.dockerd.once('exit', resolve));
      process.kill(this.dockerd.pid!, 'SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      await stopAll([this.dockerd]);
    }
    try {
      execFileSync('ip', ['link', 'delete', this.bridge], { stdio: 'ignore' });
    } catch {
      // Never made.
    }
    if ('proxy' in found) {
      try {
        execFileSync(found.proxy, ['--cleanup'], { stdio: 'ignore' });
      } catch {
        // Nothing to clean.
      }
    }
    removeKubeChains(this.chainsBefore);
    if (removeFiles) {
      for (const mount of mountsUnder(this.dir)) execFileSync('umount', ['-l', mount]);
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

interface KubeChain {
  /** `table/chain`. */
  key: string;
  table: string;
  chain: string;
}

const IPTABLES_TABLES = ['filter', 'nat', 'mangle'];

/** The `KUBE-*` chains of the host's IPv4 tables (the kubelet and kube-proxy make them). */
function kubeChains(): KubeChain[] {
  return IPTABLES_TABLES.flatMap((table) =>
    iptables(table, ['-S'])
      .split('\n')
      .flatMap((line) => /^-N (KUBE-\S+)$/.exec(line)?.[1] ?? [])
      .map((chain) => ({ key: `${table}/${chain}`, table, chain })),
  );
}

/**
 * Removes the `KUBE-*` chains this node's kubelet made and kube-proxy's `--cleanup` leaves (the
 * kubelet's firewall is jumped to from INPUT and OUTPUT): the host's tables end as they began.
 */
export function removeKubeChains(before: ReadonlySet<string>): void {
  const made = kubeChains().filter((c) => !before.has(c.key));
  for (const table of IPTABLES_TABLES) {
    const chains = new Set(made.filter((c) => c.table === table).map((c) => c.chain));
    if (chains.size === 0) continue;
    for (const line of iptables(table, ['-S']).split('\n')) {
      const jump = /^-A (\S+) .*-j (KUBE-\S+)/.exec(line);
      // `-S` prints the rule as its arguments, a comment in double quotes: the same arguments delete it.
      const args = (line.slice(3).match(/"[^"]*"|\S+/g) ?? []).map((arg) => arg.replace(/^"(.*)"$/, '$1'));
      if (jump && chains.has(jump[2]!) && !chains.has(jump[1]!)) iptables(table, ['-D', ...args]);
    }
    for (const chain of chains) iptables(table, ['-F', chain]);
    for (const chain of chains) iptables(table, ['-X', chain]);
  }
}

/** Runs iptables on one table; '' when it fails (no iptables, nothing to delete). */
function iptables(table: string, args: string[]): string {
  try {
    return execFileSync('iptables', ['-w', '-t', table, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/**
 * A runc that leaves the OOM score as it is: kubelet asks for -998 for every pod's sandbox, and
 * lowering a score needs CAP_SYS_RESOURCE, which machines like this one (a sandboxed VM) do not
 * give even to root; runc then fails with "can't get final child's PID from pipe". Only the
 * score of the test's own containers changes.
 */
function writeRuncWrapper(dir: string, runc: string): string {
  const wrapper = path.join(dir, 'runc-keep-oom-score');
  const script = [
    '#!/bin/sh',
    'previous=',
    'for arg in "$@"; do',
    '  if [ "$previous" = --bundle ] || [ "$previous" = -b ]; then',
    '    sed -i \'s/"oomScoreAdj":-[0-9]*/"oomScoreAdj":0/\' "$arg/config.json"',
    '  fi',
    '  previous=$arg',
    'done',
    `exec ${runc} "$@"`,
    '',
  ];
  fs.writeFileSync(wrapper, script.join('\n'), { mode: 0o700 });
  return wrapper;
}

function writeCniConfig(confDir: string, bridge: string, podCidr: string): void {
  fs.mkdirSync(confDir, { recursive: true });
  const gateway = podCidr.replace(/\.0\/24$/, '.1');
  const config = {
    cniVersion: '0.4.0',
    name: 'cutover-test',
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: false,
        ipam: { type: 'host-local', ranges: [[{ subnet: podCidr, gateway }]], dataDir: path.join(confDir, '..', 'ipam') },
      },
      { type: 'loopback' },
    ],
  };
  fs.writeFileSync(path.join(confDir, '10-cutover.conflist'), JSON.stringify(config, null, 2));
}

function sharedLibraries(program: string): string[] {
  const text = execFileSync('ldd', [program], { encoding: 'utf8' });
  return [...text.matchAll(/(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
}

function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mount) => mount.startsWith(`${dir}/`))
    .sort()
    .reverse();
}
