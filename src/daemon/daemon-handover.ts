import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import type { ListeningSocket } from '../proxy/listening-sockets.js';
import {
  readSuccessorLaunch,
  restartOutcomeFile,
  SUCCESSOR_LAUNCH_FILE_ENV,
  successorLaunchFile,
  writePrivateJson,
  type RestartOutcome,
  type RestartRequest,
} from './restart-files.js';
import { socketKey } from './held-sockets.js';

/** How long the new daemon has to serve before the old one gives up on it and serves on. */
const SUCCESSOR_START_LIMIT_MS = 60_000;
/** How long the old controller has to step down for a restart. */
const CONTROLLER_STEP_DOWN_LIMIT_MS = 10_000;
/** Environment variable telling a new primary which daemon it replaces (it takes the lock from that pid once it serves). */
export const HANDOVER_FROM_ENV = 'CUTOVER_HANDOVER_FROM';

/** What the running (old) primary lends a handover. */
export interface HandoverParts {
  configPath: string;
  dataDir: string;
  daemonLog: string;
  /** The daemon-level settings it runs with: a restart keeps those its request does not change. */
  current: { workers: number; admin?: string; ui?: string };
  /** Copies of every listening socket (from a proxy worker, which keeps serving on its own). */
  collectSockets(): Promise<ListeningSocket[]>;
  /** Stops the controller, leaving every instance running for the next one to adopt. */
  stopController(): Promise<void>;
  /** The new daemon failed: a controller again, on the instances it left. */
  restartController(): void;
  /** The new daemon serves: the old proxy workers finish what they serve, then this daemon exits. */
  retire(): Promise<void>;
  log(line: string): void;
}

/**
 * `cutover restart`, in the old primary: the listening sockets go to a new daemon started from
 * the cutover the request names (inherited fds, systemd's LISTEN_FDS protocol, so the same code
 * serves socket activation); the controller steps down first so that only one drives the apps;
 * the new controller adopts the instances. Until the new daemon says it serves, the old workers
 * accept on the same sockets; if it never does, the old daemon takes its controller back. The
 * outcome goes to a file the CLI waits for.
 */
export async function handOver(request: RestartRequest, parts: HandoverParts): Promise<void> {
  const outcome = (body: Omit<RestartOutcome, 'id'>): void => writePrivateJson(restartOutcomeFile(parts.dataDir), { id: request.id, ...body });
  const sockets = await parts.collectSockets();
  parts.log(`restart: handing ${sockets.length} listening socket(s) to a new daemon (${request.bin})`);
  await parts.stopController();
  const started = startSuccessor(request, parts, sockets);
  const result = await started;
  if (result.isServing) {
    parts.log(`restart: the new daemon (pid ${result.pid}) serves; the old proxy workers drain`);
    outcome({ isServing: true, pid: result.pid });
    await parts.retire();
    return;
  }
  parts.log(`restart: the new daemon did not start (${result.reason}); this daemon serves on`);
  parts.restartController();
  outcome({ isServing: false, reason: result.reason });
}

/** Asks the controller to step down (instances untouched) and resolves once it exited; killed if it takes too long. */
export function stepDown(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), CONTROLLER_STEP_DOWN_LIMIT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send({ type: 'handover' });
    else child.kill('SIGKILL');
  });
}

type SuccessorResult = { isServing: true; pid: number } | { isServing: false; reason: string; hasExitedCleanly?: boolean };

/**
 * Starts the new daemon in two steps: the named cutover's `up` checks the config and says how to
 * start its lean daemon process (SuccessorLaunch), then this primary starts that process with
 * the listening sockets. The daemon then runs without the command line and the config parser
 * loaded (as `up --detach` starts it). A cutover whose `up` does not know the request runs the
 * daemon itself, in `up`'s process: that works too.
 */
async function startSuccessor(request: RestartRequest, parts: HandoverParts, sockets: readonly ListeningSocket[]): Promise<SuccessorResult> {
  const workers = request.workers ?? parts.current.workers;
  // Absent: kept; null: turned off.
  const admin = request.admin === undefined ? parts.current.admin : (request.admin ?? undefined);
  const ui = request.ui === undefined ? parts.current.ui : (request.ui ?? undefined);
  const args = [request.bin, 'up', '-c', parts.configPath, '--data-dir', parts.dataDir, '--workers', String(workers)];
  if (admin !== undefined) args.push('--admin', admin);
  // The address was checked when it was first given (by `up` or `restart`).
  if (ui !== undefined) args.push('--ui', ui, '--ui-allow-remote');
  const deadline = performance.now() + SUCCESSOR_START_LIMIT_MS;
  const launchFile = successorLaunchFile(parts.dataDir);
  fs.rmSync(launchFile, { force: true });
  // Each socket becomes an inherited fd (3, 4…), as systemd would pass it; not readable, not writable: only held.
  // One wrapper per socket for both steps: destroying a wrapper closes the handle it wraps.
  const inherited = sockets.map((s) => new net.Socket({ handle: s.handle, readable: false, writable: false } as net.SocketConstructorOpts));
  const held = { sockets: inherited, names: sockets.map((s) => socketKey(s.host, s.port).replaceAll(':', '_')).join(':') };
  try {
    const checked = await runSuccessor(args, parts, held, { [SUCCESSOR_LAUNCH_FILE_ENV]: launchFile }, deadline);
    if (checked.isServing || checked.hasExitedCleanly !== true) return checked;
    const launch = readSuccessorLaunch(launchFile);
    fs.rmSync(launchFile, { force: true });
    if (launch === undefined) return { isServing: false, reason: `${request.bin} up exited without starting a daemon` };
    return await runSuccessor([...launch.nodeFlags, launch.script], parts, held, launch.env, deadline);
  } finally {
    // The new daemon has its own copies now (and the worker that lent them keeps its own).
    for (const socket of inherited) socket.destroy();
  }
}

/** Runs one step of the new daemon's start with the listening sockets as inherited fds, until it serves or exits. */
function runSuccessor(
  args: string[],
  parts: HandoverParts,
  held: { sockets: readonly net.Socket[]; names: string },
  extraEnv: Record<string, string>,
  deadline: number,
): Promise<SuccessorResult> {
  const { LISTEN_FDS: _fds, LISTEN_FDNAMES: _names, LISTEN_PID: _pid, ...env } = process.env;
  const logFd = fs.openSync(parts.daemonLog, 'a', 0o600);
  // Where the new daemon's lines begin in the shared log: its reason for failing is read from there.
  const logOffset = fs.fstatSync(logFd).size;
  let child;
  try {
    child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd, ...held.sockets, 'ipc'],
      env: {
        ...env,
        ...extraEnv,
        [HANDOVER_FROM_ENV]: String(process.pid),
        LISTEN_FDS: String(held.sockets.length),
        LISTEN_FDNAMES: held.names,
      },
    });
  } catch (error) {
    return Promise.resolve({ isServing: false, reason: `cannot start ${args[0]}: ${(error as Error).message}` });
  } finally {
    fs.closeSync(logFd);
  }
  const successor = child;
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => {
        successor.kill('SIGKILL');
        resolve({ isServing: false, reason: `the new daemon did not serve within ${SUCCESSOR_START_LIMIT_MS / 1000}s` });
      },
      Math.max(deadline - performance.now(), 0),
    );
    successor.on('message', (message: { type?: string }) => {
      if (message?.type !== 'serving') return;
      clearTimeout(timer);
      successor.unref();
      successor.disconnect();
      resolve({ isServing: true, pid: successor.pid! });
    });
    successor.on('error', (error) => {
      clearTimeout(timer);
      resolve({ isServing: false, reason: error.message });
    });
    successor.on('exit', (code, signal) => {
      clearTimeout(timer);
      const reason = `the new daemon exited (${signal ?? `code ${code}`}) while starting: ${whyItFailed(parts.daemonLog, logOffset)}`;
      resolve({ isServing: false, reason, hasExitedCleanly: code === 0 });
    });
  });
}

/** The new daemon's error lines (what it wrote to the log since `offset`, stack frames left out), else its last lines. */
function whyItFailed(file: string, offset: number): string {
  let text = '';
  try {
    const fd = fs.openSync(file, 'r');
    const length = Math.min(fs.fstatSync(fd).size - offset, 64 * 1024);
    const buffer = Buffer.alloc(Math.max(length, 0));
    fs.readSync(fd, buffer, 0, buffer.length, offset);
    fs.closeSync(fd);
    text = buffer.toString('utf8');
  } catch {
    return '(no daemon log)';
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !/^\s+at /.test(line));
  const errors = lines.filter((line) => /error|failed|cannot|invalid/i.test(line));
  return (errors.length > 0 ? errors : lines).slice(-4).join('\n');
}
