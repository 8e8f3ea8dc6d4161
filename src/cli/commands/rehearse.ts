import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../errors.js';
import type { StrategyName } from '../../model/rollout.js';
import type { AppSpec } from '../../model/app-spec.js';
import { loadConfig } from '../../config/index.js';
import { EXIT_OK, EXIT_ROLLOUT_FAILED } from '../../exit-codes.js';
import { formatRehearsalSummary } from '../rehearse/format-rehearsal.js';
import { junitReport } from '../rehearse/junit-report.js';
import { MAX_REHEARSE_CLIENTS, MAX_REHEARSE_DEPLOYS } from '../rehearse/rehearse-defaults.js';
import { runRehearsal, type RehearsalPlan } from '../rehearse/run-rehearsal.js';

export interface RehearseOptions {
  config: string;
  deploys: number;
  clients: number;
  strategy?: StrategyName;
  junit?: string;
  json?: boolean;
}

/**
 * `cutover rehearse`: the config's apps on a daemon of their own, deployed again and again under
 * load, then once broken; exits 0 only when no request failed and every deploy ended as expected.
 * Progress goes to stdout, or to stderr with `--json` (stdout then holds only the JSON).
 */
export async function rehearse(appNames: string[], options: RehearseOptions): Promise<void> {
  const plan = planOf(appNames, options);
  const junitPath = options.junit === undefined ? undefined : junitTarget(options.junit);
  const log = options.json ? (line: string): void => console.error(line) : (line: string): void => console.log(line);
  log(
    `cutover rehearse: ${plan.apps.map((a) => a.name).join(', ')}: ${plan.deploys} deploy${plan.deploys === 1 ? '' : 's'} each, then a broken revision, under ${plan.clients} keep-alive clients per app`,
  );
  const result = await runRehearsal(plan, (line) => log(line));
  if (!options.json) console.log(`\n${formatRehearsalSummary(result)}`);
  if (junitPath !== undefined) {
    fs.writeFileSync(junitPath, junitReport(result));
    log(`JUnit report: ${junitPath}`);
  }
  if (options.json) console.log(JSON.stringify(result, null, 2));
  process.exitCode = result.isPassed ? EXIT_OK : EXIT_ROLLOUT_FAILED;
}

/** Everything that can be wrong with the input is found here, before anything starts (exit 2). */
function planOf(appNames: string[], options: RehearseOptions): RehearsalPlan {
  const config = loadConfig(path.resolve(options.config));
  const unknown = appNames.filter((name) => !config.apps.some((a) => a.name === name));
  if (unknown.length) {
    throw new InputError('APP_NOT_IN_CONFIG', `no app named ${unknown.map((n) => `"${n}"`).join(', ')} in ${config.path}`, {
      hint: `Apps in the config: ${config.apps.map((a) => a.name).join(', ')}`,
    });
  }
  const apps = appNames.length ? config.apps.filter((a) => appNames.includes(a.name)) : config.apps;
  for (const app of apps) assertRehearsable(app);
  if (options.deploys > MAX_REHEARSE_DEPLOYS) throw new InputError('BAD_FLAG', `--deploys is at most ${MAX_REHEARSE_DEPLOYS}, got ${options.deploys}`);
  if (options.clients > MAX_REHEARSE_CLIENTS) throw new InputError('BAD_FLAG', `--clients is at most ${MAX_REHEARSE_CLIENTS}, got ${options.clients}`);
  return { config, apps, deploys: options.deploys, clients: options.clients, strategy: options.strategy };
}

/** A rehearsal runs local processes on loopback: nothing outside this machine is driven. */
function assertRehearsable(app: AppSpec): void {
  if (app.runtime?.kind === 'kubernetes') {
    throw new InputError(
      'RUNTIME_NOT_SUPPORTED',
      `app "${app.name}" runs on Kubernetes; a rehearsal runs apps as local processes on loopback and drives no cluster`,
      {
        hint: 'name the local apps to rehearse: cutover rehearse APP…',
      },
    );
  }
  if (app.router?.kind === 'haproxy' && app.router.mode === 'external') {
    throw new InputError(
      'ROUTER_NOT_SUPPORTED',
      `app "${app.name}" is routed by the running HAProxy at ${app.router.socket ?? '?'}, which a rehearsal must not touch`,
      {
        hint: 'rehearse it with a managed HAProxy or the built-in proxy, or name the other apps: cutover rehearse APP…',
      },
    );
  }
}

/** The JUnit file's directory must exist: better said now than after the rehearsal. */
function junitTarget(file: string): string {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new InputError('BAD_FLAG', `--junit ${file}: the directory ${dir} does not exist`, { hint: 'create it first, or write the file elsewhere' });
  }
  if (fs.existsSync(target) && fs.statSync(target).isDirectory())
    throw new InputError('BAD_FLAG', `--junit ${file} is a directory`, { hint: 'name a file, e.g. --junit rehearsal.xml' });
  return target;
}
