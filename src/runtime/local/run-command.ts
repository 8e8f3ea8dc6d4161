import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expandVars } from './expand-vars.js';
import { isGroupAlive, signalGroup } from './process-group.js';
import { processIdentity } from './process-identity.js';

/** After SIGTERM on a timeout, the group gets SIGKILL this much later. */
export const COMMAND_KILL_GRACE_MS = 2_000;
const GROUP_POLL_MS = 25;

export interface CommandRequest {
  /** argv; with `shell`, one string run by /bin/sh -c. `${VAR}`s are replaced from `env`. */
  command: readonly string[];
  shell: boolean;
  cwd: string;
  env: Record<string, string>;
  /** stdout and stderr are appended here, straight from the process (no pipe through us). */
  logPath: string;
  timeoutMs: number;
}

export interface CommandOutcome {
  /** Null when it was killed or never started. */
  exitCode: number | null;
  signal: string | null;
  /** Set when it could not be started (command not found, bad cwd). */
  spawnError: string | null;
  isTimedOut: boolean;
  isCancelled: boolean;
  durationMs: number;
}

export interface RunningCommand {
  pid: number | null;
  /** The process start time, so a later controller never signals a recycled pid. */
  identity: string | null;
  /** Resolves once the command and every process of its group are gone. */
  done: Promise<CommandOutcome>;
  /** Kills the whole group (SIGTERM, then SIGKILL); `done` then resolves with `isCancelled`. */
  cancel(): void;
}

/**
 * Runs a short-lived command (a hook) as the leader of its own process group, with a timeout:
 * past it the group gets SIGTERM, then SIGKILL. When the command exits, whatever it left in its
 * group is killed too, so a hook never leaves a process behind.
 *
 * @example
 * const run = runCommand({ command: ['./smoke.sh', '${PREVIEW_URL}'], shell: false, cwd, env, logPath, timeoutMs: 60_000 });
 * const outcome = await run.done; // { exitCode: 0, isTimedOut: false, ... }
 */
export function runCommand(request: CommandRequest): RunningCommand {
  const startedAt = performance.now();
  const [file, ...args] = request.shell
    ? ['/bin/sh', '-c', expandVars(request.command.join(' '), request.env)]
    : request.command.map((part) => expandVars(part, request.env));
  const finish = (outcome: Partial<CommandOutcome>): CommandOutcome => ({
    exitCode: null,
    signal: null,
    spawnError: null,
    isTimedOut: false,
    isCancelled: false,
    durationMs: performance.now() - startedAt,
    ...outcome,
  });
  if (!fs.existsSync(request.cwd)) {
    return { pid: null, identity: null, done: Promise.resolve(finish({ spawnError: `working directory ${request.cwd} does not exist` })), cancel: () => {} };
  }
  fs.mkdirSync(path.dirname(request.logPath), { recursive: true, mode: 0o700 });
  const logFd = fs.openSync(request.logPath, 'a', 0o600);
  let child;
  try {
    child = spawn(file!, args, { cwd: request.cwd, env: request.env, detached: true, stdio: ['ignore', logFd, logFd] });
  } finally {
    fs.closeSync(logFd);
  }
  const pid = child.pid ?? null;
  let isTimedOut = false;
  let isCancelled = false;
  const killGroup = async (): Promise<void> => {
    if (pid === null) return;
    signalGroup(pid, 'SIGTERM');
    const deadline = performance.now() + COMMAND_KILL_GRACE_MS;
    while (isGroupAlive(pid) && performance.now() < deadline) await sleep(GROUP_POLL_MS);
    signalGroup(pid, 'SIGKILL');
  };
  let killing: Promise<void> | null = null;
  const stop = (): void => {
    killing ??= killGroup();
  };
  const timer = setTimeout(() => {
    isTimedOut = true;
    stop();
  }, request.timeoutMs);

  const exited = new Promise<{ code: number | null; signal: string | null; spawnError: string | null }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      resolve({ code: null, signal: null, spawnError: error.code === 'ENOENT' ? `command not found: ${file}` : `could not start ${file}: ${error.message}` });
    });
    child.once('exit', (code, signal) => resolve({ code, signal, spawnError: null }));
  });
  const done = (async (): Promise<CommandOutcome> => {
    const exit = await exited;
    clearTimeout(timer);
    if (pid !== null) {
      // Leftovers of the group (a background process the hook started) go with it.
      if (killing) await killing;
      signalGroup(pid, 'SIGKILL');
      const deadline = performance.now() + 5_000;
      while (isGroupAlive(pid) && performance.now() < deadline) await sleep(GROUP_POLL_MS);
    }
    return finish({ exitCode: exit.code, signal: exit.signal, spawnError: exit.spawnError, isTimedOut, isCancelled });
  })();
  return {
    pid,
    identity: pid === null ? null : processIdentity(pid),
    done,
    cancel: () => {
      isCancelled = true;
      stop();
    },
  };
}

/**
 * Kills a command an earlier controller started and could not see to its end, if that very
 * process still runs (same pid and start time). Returns whether it did.
 */
export function killOrphanCommand(pid: number, identity: string | null): boolean {
  if (identity === null || processIdentity(pid) !== identity) return false;
  return signalGroup(pid, 'SIGKILL');
}
