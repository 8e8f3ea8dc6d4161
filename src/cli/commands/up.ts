import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError } from '../../errors.js';
import { ensureDataDir } from '../../daemon/data-dir.js';
import { checkStateBeforeStart } from '../../daemon/preflight.js';
import { checkAddressesFree } from '../../daemon/address-check.js';
import type { AppSpec } from '../../model/app-spec.js';
import { daemonAlreadyRunning, isAlive, readPid } from '../../daemon/daemon-lock.js';
import { ensureAdminToken } from '../../api/admin-token.js';
import { InputError } from '../../errors.js';
import { logMaxBytesFromEnv } from '../../daemon/log-cap.js';
import { UP_OVERRIDES_ENV } from '../../daemon/up-overrides.js';
import { formatListen, loadConfig, parseListen } from '../../config/index.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { EXIT_OK, EXIT_ROLLOUT_FAILED } from '../../exit-codes.js';
import { followRollouts } from '../follow-rollouts.js';
import { visible } from '../../util/terminal-text.js';
import { inheritedFds } from '../../daemon/held-sockets.js';
import { configDriftLines } from '../config-drift-lines.js';
import { printWhileWaiting } from '../up-progress.js';
import { DAEMON_OPTIONS_ENV, type DaemonProcessOptions } from '../daemon-process.js';
import { PRIMARY_NODE_FLAGS } from '../../daemon/process-flags.js';
import { writeUpConfig } from '../../daemon/up-config.js';
import { HANDOVER_FROM_ENV } from '../../daemon/daemon-handover.js';
import { SUCCESSOR_LAUNCH_FILE_ENV, writePrivateJson, type SuccessorLaunch } from '../../daemon/restart-files.js';
import type { RolloutRecord } from '../../model/records.js';

const DETACH_READY_TIMEOUT_MS = 30_000;
/** How many rollouts `up` reads at once while it finds the ones it started. */
const ROLLOUT_READS_AT_ONCE = 8;

/** `cutover up --ui` without an address. */
export const DEFAULT_UI_LISTEN = '127.0.0.1:7070';

export interface UpOptions extends GlobalOptions {
  detach?: boolean;
  workers: number;
  admin?: string;
  /** `--ui` alone is `true`: the default address. */
  ui?: string | true;
  uiAllowRemote?: boolean;
  /** `--set KEY=VALUE` for the first deploy, as `deploy --set`. */
  set?: string[];
}

export async function up(options: UpOptions): Promise<void> {
  const context = commandContext(options);
  if (context.remote !== null) {
    throw new InputError('BAD_FLAG', 'cutover up starts the daemon on this machine; --host (or CUTOVER_HOST) cannot send it to another', {
      hint: 'Start it on the server itself (cutover up --detach there, or its systemd unit: cutover systemd); then use --host for every other command.',
    });
  }
  // Bad config fails here, with exit 2, before any process starts.
  const config = loadConfig(context.configPath, { overrides: options.set ?? [] });
  // The controller deploys the config itself: the overrides go with it (and with nothing else it starts).
  if (options.set?.length) process.env[UP_OVERRIDES_ENV] = JSON.stringify(options.set);
  const admin = options.admin === undefined ? undefined : adminAddress(options.admin);
  const ui = options.ui === undefined ? undefined : uiAddress(options.ui === true ? DEFAULT_UI_LISTEN : options.ui, options.uiAllowRemote === true);
  // A bad log cap fails here too, not in the controller.
  logMaxBytesFromEnv();
  ensureDataDir(context.layout.root);
  // A corrupt state database stops us here, with its own exit code, before anything runs.
  checkStateBeforeStart(context.layout);
  // A taken listen address fails here, exit 2, naming who holds it (a running daemon holds its own: it refuses below).
  // Sockets handed in (LISTEN_FDS: systemd, or a holder like it) are bound by their holder: a test bind of their address would fail.
  const running = readPid(context.layout.pidFile);
  if ((running === null || !isAlive(running)) && inheritedFds(process.env).length === 0)
    await checkAddressesFree(config.apps.filter(listensHere).map((a) => ({ app: a.name, listen: a.listen })));
  // The token is made (or checked) now, so a bad token file fails before anything starts.
  if (admin !== undefined || ui !== undefined) ensureAdminToken(context.layout.adminToken);

  const daemonOptions: DaemonProcessOptions = {
    configPath: context.configPath,
    dataDir: context.layout.root,
    workers: options.workers,
    ...(config.proxy ? { proxy: config.proxy } : {}),
    ...(admin !== undefined ? { admin } : {}),
    ...(ui !== undefined ? { ui } : {}),
  };
  // The daemon's controllers take the config as read here; a running daemon's copy stays, unless this one replaces it (cutover restart).
  if (running === null || !isAlive(running) || process.env[HANDOVER_FROM_ENV] !== undefined) writeUpConfig(context.layout.root, config);
  const daemonMain = fileURLToPath(new URL('../daemon-main.js', import.meta.url));
  const launchFile = process.env[SUCCESSOR_LAUNCH_FILE_ENV];
  if (process.env[HANDOVER_FROM_ENV] !== undefined && launchFile !== undefined) {
    // A restart's old primary starts the lean daemon process itself, with the listening sockets.
    const launch: SuccessorLaunch = { script: daemonMain, nodeFlags: [...PRIMARY_NODE_FLAGS], env: { [DAEMON_OPTIONS_ENV]: JSON.stringify(daemonOptions) } };
    writePrivateJson(launchFile, launch);
    return;
  }
  if (!options.detach) {
    const { runDaemon } = await import('../daemon-process.js');
    // Children are gone and the lock released; nothing is left worth waiting for.
    process.exit(await runDaemon(daemonOptions));
  }

  // The child would refuse too, but a running daemon answers the readiness check meanwhile.
  const holder = readPid(context.layout.pidFile);
  if (holder !== null && isAlive(holder)) throw daemonAlreadyRunning(holder, context.layout.root);
  // The daemon process takes the options checked here: it loads neither the command line nor the config again.
  const launchedAt = Date.now();
  const logFd = fs.openSync(context.layout.daemonLog, 'a', 0o600);
  const logOffset = fs.fstatSync(logFd).size;
  const child = spawn(process.execPath, [...PRIMARY_NODE_FLAGS, daemonMain], {
    detached: true,
    // Sockets from systemd (LISTEN_FDS) go on to the daemon, at the same fd numbers; LISTEN_PID named this process.
    stdio: ['ignore', logFd, logFd, ...inheritedFds(process.env)],
    env: { ...withoutListenPid(process.env), [DAEMON_OPTIONS_ENV]: JSON.stringify(daemonOptions) },
  });
  fs.closeSync(logFd);
  let exitCode: number | null = null;
  child.once('exit', (code) => (exitCode = code ?? 1));
  child.unref();

  const deadline = performance.now() + DETACH_READY_TIMEOUT_MS;
  for (;;) {
    if (exitCode !== null) {
      throw new CutoverError('DAEMON_START_FAILED', `the daemon exited with code ${exitCode} while starting:\n${tail(context.layout.daemonLog, 15)}`, {
        hint: `See ${context.layout.daemonLog}`,
      });
    }
    try {
      await context.client.health();
      break;
    } catch {
      if (performance.now() > deadline)
        throw new CutoverError('DAEMON_START_FAILED', `the daemon did not answer within ${DETACH_READY_TIMEOUT_MS / 1000}s`, {
          hint: `See ${context.layout.daemonLog}`,
        });
      await sleep(100);
    }
  }
  console.log(`cutover daemon running (pid ${child.pid}), data dir ${context.layout.root}, log ${context.layout.daemonLog}`);
  if (ui !== undefined) console.log(`dashboard on http://${ui}, log in with the token in ${context.layout.adminToken}`);

  // Wait for the initial rollouts so that "returned" means "serving", saying what is waited for;
  // a daemon that exits meanwhile ends the wait at once.
  const daemonGone = new AbortController();
  const onDaemonExit = (code: number | null, signal?: NodeJS.Signals | null): void =>
    daemonGone.abort(
      new CutoverError(
        'DAEMON_START_FAILED',
        `the daemon ${signal ? `was stopped by ${signal}` : `exited with code ${code ?? 1}`} while starting the apps:\n${tail(context.layout.daemonLog, 15)}`,
        {
          hint: `Nothing is left running. See ${context.layout.daemonLog}`,
        },
      ),
    );
  if (exitCode !== null) onDaemonExit(exitCode);
  else child.once('exit', onDaemonExit);
  const progressDone = new AbortController();
  const progress = printWhileWaiting(context.client, AbortSignal.any([progressDone.signal, daemonGone.signal]));
  let bad: RolloutRecord[];
  try {
    const initial = await waitForInitialRollouts(context.client, launchedAt, daemonGone.signal);
    const rollouts = await followRollouts(context.client, initial, { signal: daemonGone.signal });
    bad = rollouts.filter((r) => r.phase !== 'promoted');
    for (const r of bad) console.error(visible(`${r.app}: rollout ${r.id} ${r.phase}: ${r.reason ?? ''}`));
    if (bad.length === 0) await waitUntilServing(context.client, daemonGone.signal);
  } finally {
    progressDone.abort();
    child.off('exit', onDaemonExit);
    await progress.catch(() => undefined);
  }
  for (const line of configDriftLines(context.layout.daemonLog, logOffset)) console.log(line);
  // The metrics port was tried before the first deploy: its warning is known by now.
  const { warnings = [] } = await context.client.health().catch(() => ({ warnings: [] as string[] }));
  for (const warning of warnings) console.error(visible(`warning: ${warning}`));
  if (bad.length > 0)
    console.error(
      `the daemon keeps running (pid ${child.pid}) and serves what it could start; fix the config and run cutover deploy, or stop it with: cutover down`,
    );
  process.exitCode = bad.length ? EXIT_ROLLOUT_FAILED : EXIT_OK;
}

/** Apps restarted at their stable revision have no rollout to wait for: wait for their instances. */
async function waitUntilServing(client: ReturnType<typeof commandContext>['client'], signal: AbortSignal): Promise<void> {
  const deadline = performance.now() + DETACH_READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    signal.throwIfAborted();
    const { apps } = await client.status();
    const waiting = apps.filter(
      (a) => a.revision !== null && (a.instances.some((i) => i.state === 'starting') || !a.instances.some((i) => i.state === 'ready')),
    );
    if (waiting.length === 0) return;
    await sleep(100);
  }
  console.error('some apps have no ready instance yet; see cutover status');
}

/** The rollouts this `up` started (finished or not): the controller records them before its API answers. */
async function waitForInitialRollouts(client: ReturnType<typeof commandContext>['client'], launchedAt: number, signal: AbortSignal): Promise<number[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    signal.throwIfAborted();
    const { apps } = await client.status();
    if (apps.length > 0 && apps.every((a) => a.rollout)) {
      // A few at a time, over kept-alive connections: the daemon's event loop accepts one new connection per turn, and a
      // turn lasts long while it starts a hundred apps; a hundred requests at once waited past their timeout.
      const latest: RolloutRecord[] = [];
      for (let n = 0; n < apps.length; n += ROLLOUT_READS_AT_ONCE) {
        latest.push(...(await Promise.all(apps.slice(n, n + ROLLOUT_READS_AT_ONCE).map((a) => client.rollout(a.rollout!.id)))));
      }
      return latest.filter((r) => r.startedAt >= launchedAt).map((r) => r.id);
    }
    await sleep(100);
  }
  return [];
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no daemon log)';
  }
}

/** `--admin HOST:PORT` (or a port alone: 127.0.0.1). A wildcard address is allowed, with a warning. */
export function adminAddress(text: string): string {
  let address;
  try {
    address = parseListen(text);
  } catch (error) {
    throw new InputError('BAD_FLAG', `--admin ${JSON.stringify(text)}: ${(error as Error).message}`, { hint: 'write --admin 127.0.0.1:7071' });
  }
  if (address.host === '0.0.0.0' || address.host === '::') {
    console.error(`warning: the admin API will listen on every interface (${formatListen(address)}); only the bearer token protects it`);
  }
  return formatListen(address);
}

/**
 * `--ui HOST:PORT` (or a port alone: 127.0.0.1). The dashboard is a browser's way in: it stays
 * on loopback unless `--ui-allow-remote` says otherwise.
 */
export function uiAddress(text: string, isRemoteAllowed: boolean): string {
  let address;
  try {
    address = parseListen(text);
  } catch (error) {
    throw new InputError('BAD_FLAG', `--ui ${JSON.stringify(text)}: ${(error as Error).message}`, { hint: `write --ui ${DEFAULT_UI_LISTEN}` });
  }
  if (!isLoopback(address.host) && !isRemoteAllowed) {
    throw new InputError('UI_NOT_LOOPBACK', `--ui ${formatListen(address)} is not a loopback address: the dashboard would be reachable from other machines`, {
      hint: 'keep it on 127.0.0.1 (reach it through an SSH tunnel), or add --ui-allow-remote to mean it (only the token protects it, over plain HTTP)',
    });
  }
  if (!isLoopback(address.host))
    console.error(`warning: the dashboard will listen on ${formatListen(address)}, beyond this machine; only the token protects it`);
  return formatListen(address);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Apps whose listen address this daemon binds (the proxy, or a managed HAProxy); not an external HAProxy's, not a cluster's. */
function listensHere(app: AppSpec): boolean {
  const router = app.router ?? { kind: 'builtin' };
  return router.kind === 'builtin' || (router.kind === 'haproxy' && router.mode === 'managed');
}

/** systemd's LISTEN_PID names the process it started; a detached daemon is another one. */
function withoutListenPid(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { LISTEN_PID: _pid, ...rest } = env;
  return inheritedFds(env).length > 0 ? rest : env;
}
