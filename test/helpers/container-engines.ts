import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { externalProgram } from './external-program.js';
import { assertInsideOwnNetns } from './own-netns.js';
import { repoRoot } from './repo.js';

/** One container engine for a test file: its own daemon or storage, an environment for `cutover up` and the CLI, and a teardown. */
export interface TestEngine {
  name: 'docker' | 'podman';
  /** What `cutover up` (and the engine CLI in the test) needs to reach this engine and only it. */
  env: NodeJS.ProcessEnv;
  /** Runs the engine CLI against this engine; throws on failure. */
  run(args: string[]): string;
  stop(): Promise<void>;
}

const DOCKERD_START_MS = 60_000;

/**
 * Skips (visibly) or, under CUTOVER_REQUIRE_EXTERNAL=1, fails when the engine cannot be used.
 * Returns the reason to skip, or null.
 */
export function engineSkip(reason: string): string {
  if (process.env.CUTOVER_REQUIRE_EXTERNAL === '1') throw new Error(`${reason}, and CUTOVER_REQUIRE_EXTERNAL=1 requires it`);
  console.log(`# skipped: ${reason}`);
  return reason;
}

/** How a test engine is networked: `host` only, or also with a bridge (only inside a network namespace the test made: see own-netns.ts). */
export interface TestEngineOptions {
  bridge?: boolean;
}

/**
 * A dockerd of this test alone: its own socket, data root, exec root and pid file in a temp dir,
 * no iptables, stopped by its PID afterwards. No bridge (host networking only), unless `bridge`
 * is asked inside a test's own network namespace: then its docker0 lives and dies there, and
 * published ports reach containers through docker-proxy (no iptables rules, not even there).
 */
export async function startTestDocker(options: TestEngineOptions = {}): Promise<TestEngine | { skip: string }> {
  const paths: Record<string, string> = {};
  for (const [program, pkg] of [
    ['dockerd', 'docker.io'],
    ['docker', 'docker.io'],
    ['runc', 'runc'],
  ] as const) {
    const found = externalProgram(program, pkg);
    if ('skip' in found) return found;
    paths[program] = found.path;
  }
  if (options.bridge) assertInsideOwnNetns();
  // Short: the socket path must stay under 108 bytes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dk-'));
  const socket = path.join(dir, 'd.sock');
  const log = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
  // By the path found: a PATH without /usr/sbin would otherwise fail the spawn, not skip.
  const dockerd = spawn(
    paths.dockerd!,
    [
      '--iptables=false',
      ...(options.bridge ? [] : ['--bridge=none']),
      '-H',
      `unix://${socket}`,
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--pidfile',
      path.join(dir, 'dockerd.pid'),
    ],
    { stdio: ['ignore', log, log], detached: true },
  );
  fs.closeSync(log);
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  const stop = async (): Promise<void> => {
    if (dockerd.pid !== undefined && dockerd.exitCode === null) {
      dockerd.kill('SIGTERM');
      const deadline = performance.now() + 20_000;
      while (dockerd.exitCode === null && dockerd.signalCode === null && performance.now() < deadline) await sleep(100);
      if (dockerd.exitCode === null && dockerd.signalCode === null) dockerd.kill('SIGKILL');
    }
    // dockerd leaves its own network namespace mounted under the exec root.
    try {
      execFileSync('umount', [path.join(dir, 'exec', 'netns', 'default')], { stdio: 'ignore' });
    } catch {
      // Not mounted.
    }
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  const deadline = performance.now() + DOCKERD_START_MS;
  while (!(await pings(socket))) {
    if (dockerd.exitCode !== null || performance.now() > deadline) {
      const said = fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').trim().split('\n').slice(-5).join('\n');
      await stop();
      return { skip: engineSkip(`dockerd did not start here: ${said}`) };
    }
    await sleep(200);
  }
  return { name: 'docker', env, run: (args) => execFileSync('docker', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }), stop };
}

/**
 * Podman with its own storage and run dirs in a temp dir, runc as its runtime and ulimits this
 * machine allows (crun fails on its cgroups; the default ulimits exceed its limits), set in
 * config files named by CONTAINERS_CONF and CONTAINERS_STORAGE_CONF so cutover's own calls
 * use them too. DOCKER_HOST names no daemon, so `engine: auto` picks podman.
 */
export async function startTestPodman(options: TestEngineOptions = {}): Promise<TestEngine | { skip: string }> {
  for (const [program, pkg] of [
    ['podman', 'podman'],
    ['runc', 'runc'],
  ] as const) {
    const found = externalProgram(program, pkg);
    if ('skip' in found) return found;
  }
  if (options.bridge) assertInsideOwnNetns();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-'));
  const runc = externalProgram('runc');
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]',
      // A bridge (netavark's podman0 and its firewall rules) only in the test's own network namespace; its config in the temp dir.
      ...(options.bridge ? ['[network]', 'network_backend = "netavark"', `network_config_dir = "${path.join(dir, 'networks')}"`] : []),
      '[engine]',
      `runtime = "runc"`,
      `tmp_dir = "${path.join(dir, 'tmp')}"`,
      '[engine.runtimes]',
      `runc = ["${'path' in runc ? runc.path : '/usr/sbin/runc'}"]`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'storage.conf'),
    ['[storage]', 'driver = "overlay"', `graphroot = "${path.join(dir, 'root')}"`, `runroot = "${path.join(dir, 'runroot')}"`, ''].join('\n'),
  );
  const env = {
    ...process.env,
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
    DOCKER_HOST: `unix://${path.join(dir, 'no-docker.sock')}`,
  };
  const run = (args: string[]): string => execFileSync('podman', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const stop = async (): Promise<void> => {
    try {
      run(['rm', '--all', '--force']);
      run(['system', 'reset', '--force']);
    } catch {
      // Best effort: the directory goes below either way.
    }
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    run(['info', '--format', '{{.Store.GraphRoot}}']);
  } catch (error) {
    await stop();
    return { skip: engineSkip(`podman does not work here: ${(error as Error).message.split('\n').slice(-3).join(' ')}`) };
  }
  return { name: 'podman', env, run, stop };
}

let rootfsTar: string | null = null;

/**
 * A root file system holding this machine's node, the libraries `ldd` lists and the demo app
 * (examples/demo/server.js): no registry is reachable, so images are imported from it. Made
 * once per test process, removed at exit.
 */
function demoRootfs(): string {
  if (rootfsTar) return rootfsTar;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rootfs-'));
  const root = path.join(dir, 'root');
  const node = fs.realpathSync(process.execPath);
  const copy = (file: string, to = file): void => {
    fs.mkdirSync(path.join(root, path.dirname(to)), { recursive: true });
    fs.copyFileSync(fs.realpathSync(file), path.join(root, to));
  };
  copy(node, '/usr/bin/node');
  for (const match of execFileSync('ldd', [node], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g)) copy(match[1]!);
  copy(path.join(repoRoot(), 'examples', 'demo', 'server.js'), '/app/server.mjs');
  fs.mkdirSync(path.join(root, 'tmp'), { recursive: true, mode: 0o1777 });
  rootfsTar = path.join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', root, '-cf', rootfsTar, '.']);
  fs.rmSync(root, { recursive: true, force: true });
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return rootfsTar;
}

/** Imports the demo image as `tag`, with `VERSION` in its environment; returns its image ID. */
export function importDemoImage(engine: TestEngine, tag: string, version: string): string {
  engine.run(['import', '--change', 'CMD ["/usr/bin/node", "/app/server.mjs"]', '--change', `ENV VERSION=${version}`, demoRootfs(), tag]);
  const id = engine.run(['image', 'inspect', '--format', '{{.Id}}', tag]).trim();
  return id.startsWith('sha256:') ? id : `sha256:${id}`;
}

/**
 * Another version of an imported image: a commit of a container of `fromTag` with `VERSION`
 * changed, so it shares the big layer instead of writing 100 MB again (a loaded disk slows
 * everything else down).
 */
export function deriveDemoImage(engine: TestEngine, fromTag: string, tag: string, version: string): string {
  const created = engine.run(['create', fromTag]).trim().split('\n').pop()!;
  try {
    engine.run(['commit', '--change', `ENV VERSION=${version}`, created, tag]);
  } finally {
    engine.run(['rm', '--force', created]);
  }
  const id = engine.run(['image', 'inspect', '--format', '{{.Id}}', tag]).trim();
  return id.startsWith('sha256:') ? id : `sha256:${id}`;
}

/** IDs of the containers the engine holds with `cutover.data-dir=<dataDir>`, running or not. */
export function containersOf(engine: TestEngine, dataDir: string): string[] {
  return engine
    .run(['ps', '--all', '--quiet', '--no-trunc', '--filter', `label=cutover.data-dir=${dataDir}`])
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function pings(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path: '/_ping', timeout: 1_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
