import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError, DaemonUnreachableError } from '../../errors.js';
import { isAlive, readPid } from '../../daemon/daemon-lock.js';
import { readJson, restartOutcomeFile, restartRequestFile, writePrivateJson, type RestartOutcome, type RestartRequest } from '../../daemon/restart-files.js';
import { ensureAdminToken } from '../../api/admin-token.js';
import { loadConfig } from '../../config/index.js';
import { visible } from '../../util/terminal-text.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { adminAddress, DEFAULT_UI_LISTEN, uiAddress } from './up.js';

/** Longer than the old daemon waits for the new one, so its answer always comes first. */
const RESTART_ANSWER_TIMEOUT_MS = 90_000;

export interface RestartOptions extends GlobalOptions {
  detach?: boolean;
  workers?: number;
  /** `--no-admin` is false: the new daemon serves no admin API on TCP. */
  admin?: string | false;
  /** `--ui` alone is true (the default address); `--no-ui` is false. */
  ui?: string | true | false;
  uiAllowRemote?: boolean;
}

/**
 * `cutover restart`: the running daemon hands its listening sockets to a new one started from
 * this cutover (so an upgraded package takes over) and the config's daemon-level settings; the
 * new controller adopts the instances; the old proxy workers finish what they serve. Exit 0
 * once the new daemon serves; DAEMON_START_FAILED (exit 1) when it cannot start, the old one
 * serving on. Settings not given stay as the running daemon has them; `--no-admin` and `--no-ui`
 * turn the admin API on TCP and the dashboard off.
 */
export async function restart(options: RestartOptions): Promise<void> {
  const { configPath, layout } = commandContext(options);
  const pid = readPid(layout.pidFile);
  if (pid === null || !isAlive(pid)) {
    throw new DaemonUnreachableError(`no cutover daemon runs for ${layout.root}`, { hint: 'Start it with: cutover up' });
  }
  const admin = typeof options.admin === 'string' ? adminAddress(options.admin) : undefined;
  const ui =
    options.ui === undefined || options.ui === false
      ? undefined
      : uiAddress(options.ui === true ? DEFAULT_UI_LISTEN : options.ui, options.uiAllowRemote === true);
  try {
    // The new daemon reads the config's daemon-level settings: one it cannot read stops here, the old daemon untouched.
    loadConfig(configPath);
    if (admin !== undefined || ui !== undefined) ensureAdminToken(layout.adminToken);
  } catch (error) {
    throw new CutoverError('DAEMON_START_FAILED', `the new daemon cannot start: ${(error as Error).message}`, {
      hint: `The running daemon (pid ${pid}) serves on; fix this and run cutover restart again.`,
      cause: error,
    });
  }
  const request: RestartRequest = {
    id: randomUUID(),
    bin: fileURLToPath(new URL('../../../../bin/cutover.js', import.meta.url)),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(admin !== undefined ? { admin } : options.admin === false ? { admin: null } : {}),
    ...(ui !== undefined ? { ui } : options.ui === false ? { ui: null } : {}),
  };
  const outcomeFile = restartOutcomeFile(layout.root);
  fs.rmSync(outcomeFile, { force: true });
  writePrivateJson(restartRequestFile(layout.root), request);
  process.kill(pid, 'SIGUSR2');
  if (options.detach) {
    console.log(`restarting the daemon (pid ${pid}): a new one takes over its sockets (see ${layout.daemonLog})`);
    return;
  }
  const outcome = await waitForOutcome(outcomeFile, request.id, pid);
  if (!outcome.isServing) {
    throw new CutoverError(
      'DAEMON_START_FAILED',
      visible(`the new daemon did not start; the running one (pid ${pid}) serves on: ${outcome.reason ?? 'no reason given'}`),
      {
        hint: `See ${layout.daemonLog}`,
      },
    );
  }
  console.log(`cutover daemon restarted: pid ${pid} → ${outcome.pid}; the old proxy workers finish what they serve`);
}

async function waitForOutcome(file: string, id: string, pid: number): Promise<RestartOutcome> {
  const deadline = performance.now() + RESTART_ANSWER_TIMEOUT_MS;
  for (;;) {
    const outcome = readJson<RestartOutcome>(file);
    if (outcome?.id === id) return outcome;
    if (!isAlive(pid))
      throw new CutoverError('DAEMON_START_FAILED', `the daemon (pid ${pid}) exited without saying how its restart went`, {
        hint: 'See the daemon log; cutover status tells whether a daemon serves.',
      });
    if (performance.now() > deadline)
      throw new CutoverError('DAEMON_START_FAILED', `no answer from the daemon (pid ${pid}) within ${RESTART_ANSWER_TIMEOUT_MS / 1000}s`, {
        hint: 'See the daemon log.',
      });
    await sleep(100);
  }
}
