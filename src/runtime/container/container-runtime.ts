import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CutoverError } from '../../errors.js';
import type { ContainerEngine, ContainerRuntimeSpec } from '../../model/app-spec.js';
import type { AdoptedInstance, ExitInfo, Runtime, StartRequest, StartedInstance, StopResult } from '../runtime.js';
import { findFreePort } from '../local/free-port.js';
import { LogFiles } from '../local/log-files.js';
import { findProcessByEnv } from '../local/process-table.js';
import { chooseEngine } from './choose-engine.js';
import {
  containerEnv,
  containerIdentity,
  containerName,
  containerRunArgs,
  LABEL_DATA_DIR,
  LABEL_INSTANCE,
  normalizeImageId,
  parseContainerIdentity,
} from './container-args.js';
import { engineWords, runEngine, runEngineSync, type EngineResult } from './engine-command.js';

export const CONTAINER_HOST = '127.0.0.1';
const QUICK_COMMAND_MS = 30_000;
/** Pulling may take long on a slow registry; a deploy waits for it. */
const PULL_TIMEOUT_MS = 10 * 60_000;
/** How long an exit waits for the log follower to write the container's last words. */
const LAST_WORDS_WAIT_MS = 3_000;
/** Set on a log follower's environment, so a later controller finds it (and does not start a second one). */
const FOLLOWER_ENV = 'CUTOVER_LOG_FOLLOWER';

/**
 * Runs instances as containers with Docker or Podman, through their CLI. A container is named
 * and labelled (app, revision, instance, data dir); its output reaches the instance's log file
 * through `logs --follow` run beside it (detached, so it outlives a controller restart, like the
 * container itself); its exit is seen through `wait`. The engine's own stop gives SIGTERM, then
 * SIGKILL after the stop timeout; the container is removed once it has stopped.
 */
export class ContainerRuntime implements Runtime {
  private readonly logs: LogFiles;
  private readonly dataDir: string;

  constructor(options: { dataDir: string; logMaxBytes?: number }) {
    this.dataDir = options.dataDir;
    this.logs = new LogFiles(options.logMaxBytes);
  }

  /**
   * The image of a new revision, resolved to its ID on the engine that will run it; pulled
   * first when that engine does not have it. A pull that fails throws the engine's words.
   */
  async resolveImage(container: ContainerRuntimeSpec): Promise<ContainerRuntimeSpec> {
    const engine = await chooseEngine(container.engine);
    const inspect = (): Promise<EngineResult> =>
      runEngine(engine, ['image', 'inspect', '--format', '{{.Id}}', '--', container.image], { timeoutMs: QUICK_COMMAND_MS });
    let found = await inspect();
    if (found.error) throw engineUnavailable(engine, found);
    if (found.code !== 0) {
      const pulled = await runEngine(engine, ['pull', '--', container.image], { timeoutMs: PULL_TIMEOUT_MS });
      if (pulled.code !== 0)
        throw new CutoverError('IMAGE_UNAVAILABLE', `${engine} could not pull the image ${container.image}: ${engineWords(pulled)}`, {
          hint: `build or load it first (${engine} build -t ${container.image} .), or check the registry and its credentials`,
        });
      found = await inspect();
      if (found.code !== 0) throw new CutoverError('IMAGE_UNAVAILABLE', `${engine} pulled ${container.image} but cannot inspect it: ${engineWords(found)}`);
    }
    return { ...container, resolved: { engine, imageId: normalizeImageId(found.stdout) } };
  }

  async start(request: StartRequest): Promise<StartedInstance> {
    const container = request.container;
    if (!container) throw new Error(`instance ${request.instanceId} has no container spec`);
    const engine = container.resolved?.engine ?? (await chooseEngine(container.engine));
    const hostPort = await findFreePort(CONTAINER_HOST);
    const { app, revision, instanceId, run } = request;
    const env = containerEnv({ run, container, daemonEnv: process.env, hostPort, app, revision, instanceId });
    fs.mkdirSync(path.dirname(request.logPath), { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(request.logPath, 'a', 0o600));
    const args = containerRunArgs({ engine, container, run, app, revision, instanceId, dataDir: this.dataDir, hostPort, envNames: Object.keys(env) });
    const started = await runEngine(engine, args, { env: { ...process.env, ...env }, timeoutMs: PULL_TIMEOUT_MS });
    const containerId = started.stdout.trim().split('\n').pop() ?? '';
    if (started.code !== 0 || !/^[0-9a-f]{12,64}$/.test(containerId)) {
      // A container created but not started (no such executable in the image) must not stay behind.
      await runEngine(engine, ['rm', '--force', '--', containerName(instanceId)], { timeoutMs: QUICK_COMMAND_MS });
      const spawnError = `${engine} could not start the container: ${engineWords(started)}`;
      return { pid: null, identity: null, host: CONTAINER_HOST, port: hostPort, exited: Promise.resolve({ code: null, signal: null, spawnError }) };
    }
    const pid = await this.mainPid(engine, containerId);
    this.follow(engine, containerId, instanceId, request.logPath, null);
    const exited = this.watchExit(engine, containerId, instanceId, request.logPath);
    return { pid, identity: containerIdentity(engine, containerId), host: CONTAINER_HOST, port: hostPort, exited };
  }

  adopt(instance: { pid: number; identity: string | null; port: number; logPath: string }): AdoptedInstance | null {
    const ref = parseContainerIdentity(instance.identity);
    if (!ref) return null;
    const { engine, containerId } = ref;
    const inspected = runEngineSync(
      engine,
      ['inspect', '--format', `{{.State.Running}} {{index .Config.Labels "${LABEL_INSTANCE}"}}`, '--', containerId],
      QUICK_COMMAND_MS,
    );
    const [running, instanceId] = inspected.stdout.trim().split(' ');
    if (inspected.code !== 0 || running !== 'true' || !instanceId) return null;
    // The follower started by the earlier controller still writes, unless it died with the machine's troubles.
    if (findProcessByEnv(FOLLOWER_ENV, instanceId) === null) this.follow(engine, containerId, instanceId, instance.logPath, new Date().toISOString());
    else this.logs.watch(instance.logPath);
    const exited = this.watchExit(engine, containerId, instanceId, instance.logPath);
    // A running container is checked for health at once after adoption, like any adopted instance.
    return { pid: instance.pid, identity: instance.identity, host: CONTAINER_HOST, port: instance.port, exited, isListening: true };
  }

  async stopUnrecorded(instanceId: string): Promise<boolean> {
    let found = false;
    for (const engine of ['docker', 'podman'] as const) {
      const ids = await this.listContainers(engine, `${LABEL_INSTANCE}=${instanceId}`);
      for (const id of ids) await runEngine(engine, ['rm', '--force', '--', id], { timeoutMs: QUICK_COMMAND_MS });
      found ||= ids.length > 0;
    }
    return found;
  }

  async stop(_pid: number, stopTimeoutMs: number, identity?: string | null): Promise<StopResult> {
    const ref = parseContainerIdentity(identity);
    if (!ref) return { wasKilled: false };
    const { engine, containerId } = ref;
    const seconds = String(Math.ceil(stopTimeoutMs / 1000));
    const stopped = await runEngine(engine, ['stop', '--time', seconds, '--', containerId], { timeoutMs: stopTimeoutMs + QUICK_COMMAND_MS });
    if (stopped.code !== 0) await runEngine(engine, ['kill', '--', containerId], { timeoutMs: QUICK_COMMAND_MS });
    const state = await runEngine(engine, ['inspect', '--format', '{{.State.ExitCode}}', '--', containerId], { timeoutMs: QUICK_COMMAND_MS });
    await runEngine(engine, ['rm', '--force', '--', containerId], { timeoutMs: QUICK_COMMAND_MS });
    // 137 = 128 + SIGKILL: the engine had to kill it after the stop timeout.
    return { wasKilled: state.stdout.trim() === '137' };
  }

  async sweep(keepInstanceIds: ReadonlySet<string>, engines: readonly ContainerEngine[]): Promise<string[]> {
    const removed: string[] = [];
    for (const engine of engines) {
      for (const id of await this.listContainers(engine, `${LABEL_DATA_DIR}=${this.dataDir}`)) {
        const labelled = await runEngine(engine, ['inspect', '--format', `{{index .Config.Labels "${LABEL_INSTANCE}"}}`, '--', id], {
          timeoutMs: QUICK_COMMAND_MS,
        });
        const instanceId = labelled.stdout.trim();
        if (labelled.code !== 0 || keepInstanceIds.has(instanceId)) continue;
        await runEngine(engine, ['rm', '--force', '--', id], { timeoutMs: QUICK_COMMAND_MS });
        removed.push(instanceId || id);
      }
    }
    return removed;
  }

  close(): void {
    this.logs.close();
  }

  /** IDs of every container (running or not) with the label; none when the engine does not answer. */
  private async listContainers(engine: ContainerEngine, label: string): Promise<string[]> {
    const listed = await runEngine(engine, ['ps', '--all', '--quiet', '--no-trunc', '--filter', `label=${label}`], { timeoutMs: QUICK_COMMAND_MS });
    if (listed.code !== 0) return [];
    return listed.stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[0-9a-f]{12,64}$/.test(line));
  }

  /** The container's main process as this machine sees it; null once it has exited. */
  private async mainPid(engine: ContainerEngine, containerId: string): Promise<number | null> {
    const inspected = await runEngine(engine, ['inspect', '--format', '{{.State.Pid}}', '--', containerId], { timeoutMs: QUICK_COMMAND_MS });
    const pid = Number(inspected.stdout.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  /** Copies the container's output into its log file until the container ends; detached, so it outlives this controller. */
  private follow(engine: ContainerEngine, containerId: string, instanceId: string, logPath: string, since: string | null): void {
    const logFd = fs.openSync(logPath, 'a', 0o600);
    try {
      const args = ['logs', '--follow', ...(since ? ['--since', since] : []), '--', containerId];
      const follower = spawn(engine, args, { detached: true, stdio: ['ignore', logFd, logFd], env: { ...process.env, [FOLLOWER_ENV]: instanceId } });
      follower.on('error', () => {});
      follower.unref();
    } finally {
      fs.closeSync(logFd);
    }
    this.logs.watch(logPath);
  }

  /**
   * Resolves when the container has exited, once its follower wrote its last words (or a few
   * seconds passed), and removes the exited container: its output is in the log file already.
   */
  private watchExit(engine: ContainerEngine, containerId: string, instanceId: string, logPath: string): Promise<ExitInfo> {
    return new Promise<ExitInfo>((resolve) => {
      const waiter = spawn(engine, ['wait', '--', containerId], { stdio: ['ignore', 'pipe', 'ignore'] });
      let output = '';
      waiter.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      waiter.on('error', () => resolve({ code: null, signal: null }));
      waiter.on('close', () => {
        const code = Number.parseInt(output.trim(), 10);
        void this.lastWordsWritten(instanceId).then(async () => {
          this.logs.unwatch(logPath);
          await runEngine(engine, ['rm', '--force', '--', containerId], { timeoutMs: QUICK_COMMAND_MS });
          resolve({ code: Number.isNaN(code) ? null : code, signal: code > 128 ? signalName(code - 128) : null });
        });
      });
    });
  }

  private async lastWordsWritten(instanceId: string): Promise<void> {
    const deadline = performance.now() + LAST_WORDS_WAIT_MS;
    while (findProcessByEnv(FOLLOWER_ENV, instanceId) !== null && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }
}

function engineUnavailable(engine: ContainerEngine, result: EngineResult): CutoverError {
  return new CutoverError('CONTAINER_ENGINE_UNAVAILABLE', `the container engine ${engine} cannot be used: ${engineWords(result)}`, {
    hint: 'install docker.io (and start dockerd) or podman, or set runtime.container.engine',
  });
}

function signalName(number: number): string | null {
  return number === 9 ? 'SIGKILL' : number === 15 ? 'SIGTERM' : null;
}
