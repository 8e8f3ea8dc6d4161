import path from 'node:path';
import { InputError } from '../../errors.js';
import type { StrategyName } from '../../model/rollout.js';
import { HOOK_POINTS, type AppSpec, type HookPoint } from '../../model/app-spec.js';
import { loadConfig } from '../../config/index.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { EXIT_OK, EXIT_ROLLOUT_FAILED } from '../../exit-codes.js';
import { followRollouts } from '../follow-rollouts.js';
import { watchApps } from '../watch-apps.js';
import { paint } from '../output.js';
import { formatDeployReport } from '../format-deploy-report.js';
import type { DeployReport } from '../../protocol/deploy-report.js';
import { waitForReport } from '../wait-for-report.js';
import { visible } from '../../util/terminal-text.js';
import type { CutoverClient } from '../../api/client.js';
import { describeSshHost } from '../remote/ssh-host.js';
import { uploadOverSsh } from '../remote/ssh-upload.js';

export interface DeployOptions extends GlobalOptions {
  set: string[];
  strategy?: StrategyName;
  detach?: boolean;
  json?: boolean;
  skipHooks?: string[];
  prune?: boolean;
  restart?: boolean;
  from?: string;
}

export async function deploy(appNames: string[], options: DeployOptions): Promise<void> {
  const context = commandContext(options);
  const config = loadConfig(context.configPath, { overrides: options.set });
  const unknown = appNames.filter((name) => !config.apps.some((a) => a.name === name));
  if (unknown.length) {
    throw new InputError('APP_NOT_IN_CONFIG', `no app named ${unknown.map((n) => `"${n}"`).join(', ')} in ${context.configPath}`, {
      hint: `Apps in the config: ${config.apps.map((a) => a.name).join(', ')}`,
    });
  }
  const specs = appNames.length ? config.apps.filter((a) => appNames.includes(a.name)) : config.apps;
  const skipHooks = options.skipHooks ?? [];
  const unknownHooks = skipHooks.filter((name) => !HOOK_POINTS.includes(name as HookPoint));
  if (unknownHooks.length) {
    throw new InputError('BAD_FLAG', `--skip-hooks ${unknownHooks[0]} names no hook point`, { hint: `Hook points: ${HOOK_POINTS.join(', ')}` });
  }
  if (options.restart && options.prune)
    throw new InputError('BAD_FLAG', '--restart and --prune do not go together', { hint: 'Restart, then prune with a deploy of its own.' });
  let from = releaseSource(options.from, specs);
  if (context.remote !== null && from !== undefined && !from.startsWith('git:')) {
    // The daemon is on another machine: the release built here goes there first.
    from = await uploadOverSsh(context.remote, from);
    if (!options.json)
      console.error(`${paint('dim', 'uploaded')} ${visible(options.from ?? '')} to ${visible(describeSshHost(context.remote))}:${visible(from)}`);
  }
  // Said once per deploy: an app without release: runs files that any edit reaches, restarts included.
  const unreleased = specs.filter((spec) => spec.release === undefined && (spec.runtime?.kind ?? 'local') === 'local').map((spec) => spec.name);
  if (unreleased.length && !options.json)
    console.error(
      `${paint('dim', 'note:')} ${unreleased.join(', ')} run${unreleased.length === 1 ? 's' : ''} from a working tree that edits reach (a restart loads them, a rollback does not undo them); add release: to give every revision its own code (see docs/releases.md)`,
    );
  const { results } = await context.client.deploy(specs, {
    strategy: options.strategy,
    skipHooks: skipHooks as HookPoint[],
    from,
    restart: options.restart,
    overrides: options.set,
  });

  for (const result of results) {
    if (options.json) continue;
    if (result.scaled)
      console.log(
        `${result.app}: unchanged, revision ${result.revision}; scaled from ${result.scaled.from} to ${result.scaled.to} instances (no new revision)`,
      );
    else if (result.isUnchanged) console.log(`${result.app}: unchanged, revision ${result.revision} is already deployed`);
    else if (options.restart) console.log(`${result.app}: restarting revision ${result.revision} on new processes (rollout ${result.rolloutId})`);
    else console.log(`${result.app}: deploying revision ${result.revision} (rollout ${result.rolloutId})`);
    // The stable revision was deployed with --set values this deploy leaves out: the file's values come back.
    for (const dropped of result.droppedOverrides ?? [])
      console.error(
        `${paint('yellow', 'note:')} ${visible(`${result.app}: the stable revision had --set ${dropped}; this deploy does not set it, the file's value applies`)}`,
      );
  }
  // A restart deploys nothing of the file: apps missing from it are none of its business.
  if (!options.restart)
    await leftOutApps(
      context.client,
      config.apps.map((a) => a.name),
      options,
    );
  const rolloutIds = results.flatMap((r) => (r.rolloutId === null ? [] : [r.rolloutId]));
  if (options.detach) {
    if (options.json) console.log(JSON.stringify({ results }, null, 2));
    return;
  }
  // On a terminal, the live view replaces the event lines while the rollouts run.
  const isLive = process.stdout.isTTY === true && !options.json && rolloutIds.length > 0;
  let isFollowed = false;
  const following = followRollouts(context.client, rolloutIds, { isQuiet: options.json || isLive }).finally(() => (isFollowed = true));
  following.catch(() => undefined); // Rethrown below by the await; handled meanwhile.
  if (isLive) await watchApps(context.client, { apps: results.map((r) => r.app), isTerminal: true, shouldStop: () => isFollowed });
  const rollouts = await following;
  const failed = rollouts.filter((r) => r.phase !== 'promoted');
  const reports = new Map<number, DeployReport>();
  for (const r of rollouts) {
    const report = await waitForReport(context.client, r.id);
    if (report) reports.set(r.id, report);
  }
  if (options.json) {
    const byId = new Map(rollouts.map((r) => [r.id, r]));
    const out = results.map((r) => {
      const rollout = r.rolloutId === null ? null : byId.get(r.rolloutId)!;
      return {
        ...r,
        phase: rollout?.phase ?? 'unchanged',
        reason: rollout?.reason ?? null,
        report: r.rolloutId === null ? null : (reports.get(r.rolloutId) ?? null),
      };
    });
    console.log(JSON.stringify({ results: out }, null, 2));
  } else {
    for (const r of rollouts) {
      const line = visible(`${r.app}: rollout ${r.id} ${r.phase}${r.reason ? `: ${r.reason}` : ''}`);
      const report = reports.get(r.id);
      if (report) console.log(`\n${visible(formatDeployReport(report))}\n`);
      console.log(r.phase === 'promoted' ? paint('green', line) : paint('red', line));
    }
  }
  process.exitCode = failed.length ? EXIT_ROLLOUT_FAILED : EXIT_OK;
}

/** Apps the daemon runs that the config no longer has: named and left, or removed with --prune. */
async function leftOutApps(client: CutoverClient, inConfig: readonly string[], options: DeployOptions): Promise<void> {
  const { apps } = await client.apps();
  // Notes go to stderr with --json, so stdout stays one JSON document.
  const say = options.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  for (const { name } of apps.filter((a) => !inConfig.includes(a.name))) {
    if (!options.prune) {
      say(`${name}: running but no longer in the config; left as it is (remove it with cutover remove ${name}, or deploy --prune)`);
      continue;
    }
    const result = await client.remove(name);
    say(
      `${name}: not in the config, removed (--prune); ${result.stoppedInstances} instance${result.stoppedInstances === 1 ? '' : 's'} stopped, its history kept`,
    );
  }
}

/** `--from`: a path made absolute here (the daemon has another working directory), or git:REF as it is. */
function releaseSource(from: string | undefined, specs: readonly AppSpec[]): string | undefined {
  if (from === undefined) return undefined;
  const withRelease = specs.filter((spec) => spec.release !== undefined);
  if (withRelease.length !== 1)
    throw new InputError('BAD_FLAG', `--from needs exactly one app with release: in this deploy, got ${withRelease.length}`, {
      hint: 'Name the app: cutover deploy web --from PATH',
    });
  return from.startsWith('git:') ? from : path.resolve(from);
}
