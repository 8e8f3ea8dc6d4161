import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdoptedInstance, ExitInfo, Runtime, StartRequest, StartedInstance, StopResult } from '../runtime.js';
import { findProcessByEnv, groupListensOn, processGroupOf } from './process-table.js';
import { expandVars } from './expand-vars.js';
import { inheritedEnv } from './instance-env.js';
import { findFreePort } from './free-port.js';
import { isGroupAlive, signalGroup } from './process-group.js';
import { LogFiles } from './log-files.js';
import { processIdentity } from './process-identity.js';
import { AdoptedExits } from './adopted-exits.js';

export const INSTANCE_HOST = '127.0.0.1';
const GROUP_POLL_MS = 25;

/**
 * Runs instances as local processes, each the leader of its own process group so that a stop
 * reaches every process it spawned. Output goes straight to a file descriptor, never through a
 * pipe, so an instance keeps running (and logging) when the controller restarts.
 */
export class LocalRuntime implements Runtime {
  private readonly exits = new Map<number, Promise<ExitInfo>>();
  private readonly logs: LogFiles;
  /** An adopted process is not our child: no exit event, so its liveness is polled. */
  private readonly adoptedExits = new AdoptedExits();

  constructor(options: { logMaxBytes?: number } = {}) {
    this.logs = new LogFiles(options.logMaxBytes);
  }

  async start(request: StartRequest): Promise<StartedInstance> {
    const port = await findFreePort(INSTANCE_HOST);
    // A clean environment: the revision's variables, ours, and a few of the daemon's (instance-env.ts).
    const env: Record<string, string> = {
      ...inheritedEnv(process.env, request.run.inheritEnv),
      ...request.run.env,
      PORT: String(port),
      CUTOVER_APP: request.app,
      CUTOVER_REVISION: String(request.revision),
      CUTOVER_INSTANCE: request.instanceId,
    };
    const [file, ...args] = request.run.shell
      ? ['/bin/sh', '-c', expandVars(request.run.command.join(' '), env)]
      : request.run.command.map((part) => expandVars(part, env));
    if (!fs.existsSync(request.run.cwd)) {
      return {
        pid: null,
        identity: null,
        host: INSTANCE_HOST,
        port,
        exited: Promise.resolve({ code: null, signal: null, spawnError: `working directory ${request.run.cwd} does not exist` }),
      };
    }

    fs.mkdirSync(path.dirname(request.logPath), { recursive: true, mode: 0o700 });
    const logFd = fs.openSync(request.logPath, 'a', 0o600);
    let child;
    try {
      child = spawn(file!, args, { cwd: request.run.cwd, env, detached: true, stdio: ['ignore', logFd, logFd] });
    } finally {
      // The child holds its own copy of the descriptor.
      fs.closeSync(logFd);
    }
    this.logs.watch(request.logPath);

    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        const spawnError =
          error.code === 'ENOENT'
            ? `command not found: ${file}`
            : error.code === 'EACCES'
              ? `permission denied: ${file} cannot be executed (is its x bit set?)`
              : `could not start ${file}: ${error.message}`;
        resolve({ code: null, signal: null, spawnError });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const pid = child.pid ?? null;
    if (pid !== null) {
      this.exits.set(pid, exited);
      void exited.then(() => {
        this.exits.delete(pid);
        this.logs.unwatch(request.logPath);
      });
    }
    return { pid, identity: pid === null ? null : processIdentity(pid), host: INSTANCE_HOST, port, exited };
  }

  adopt(instance: { pid: number; identity: string | null; port: number; logPath: string }): AdoptedInstance | null {
    const { pid } = instance;
    if (instance.identity === null || processIdentity(pid) !== instance.identity) return null;
    const exited: Promise<ExitInfo> = this.adoptedExits.exitOf(pid, instance.identity).then(() => ({ code: null, signal: null }));
    this.logs.watch(instance.logPath);
    void exited.then(() => this.logs.unwatch(instance.logPath));
    return { pid, identity: instance.identity, host: INSTANCE_HOST, port: instance.port, exited, isListening: groupListensOn(pid, instance.port) };
  }

  async stopUnrecorded(instanceId: string): Promise<boolean> {
    const pid = findProcessByEnv('CUTOVER_INSTANCE', instanceId);
    if (pid === null) return false;
    // Its own group leader (detached at spawn); a child that outlived it still carries the group.
    const pgid = processGroupOf(pid) ?? pid;
    await this.stop(pgid, 0);
    return true;
  }

  async stop(pid: number, stopTimeoutMs: number): Promise<StopResult> {
    if (!signalGroup(pid, 'SIGTERM')) return { wasKilled: false };
    const deadline = performance.now() + stopTimeoutMs;
    while (performance.now() < deadline) {
      if (!this.isRunning(pid)) return { wasKilled: false };
      await sleep(GROUP_POLL_MS);
    }
    signalGroup(pid, 'SIGKILL');
    // SIGKILL cannot be ignored; the wait is only for the kernel to reap the group.
    const killDeadline = performance.now() + 5_000;
    while (this.isRunning(pid) && performance.now() < killDeadline) await sleep(GROUP_POLL_MS);
    return { wasKilled: true };
  }

  /** A group is running while any member lives; a child of ours counts until it was reaped. */
  private isRunning(pid: number): boolean {
    return this.exits.has(pid) || isGroupAlive(pid);
  }

  close(): void {
    this.logs.close();
  }
}

/**
 * The daemon's environment without its own settings, for the commands it runs on the
 * operator's behalf (hooks, analysis commands); instances get a clean one (`inheritedEnv`).
 */
export function filterEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    // The daemon's own settings must not leak into the apps it runs.
    if (value !== undefined && !key.startsWith('CUTOVER_') && !key.startsWith('NODE_UNIQUE_ID')) result[key] = value;
  }
  return result;
}
