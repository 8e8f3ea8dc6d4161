import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError } from '../../errors.js';
import { readPid } from '../../daemon/daemon-lock.js';
import { LoadClient } from '../../loadgen/load-client.js';
import type { StrategyName } from '../../model/rollout.js';
import type { AppSpec, CutoverConfig, ProxySpec } from '../../model/app-spec.js';
import { DEFAULT_REHEARSAL_REQUEST } from '../../config/rehearse-schema.js';
import { paint } from '../output.js';
import { ScratchDaemon, waitFor } from '../scratch-daemon.js';
import { formatRehearsalDeploy } from './format-rehearsal.js';
import { LOAD_START, loadFiguresSince } from './load-window.js';
import { rehearseDeploy, type DeployStep } from './rehearse-deploy.js';
import type { RehearsalApp, RehearsalDeploy, RehearsalResult } from './rehearsal-result.js';
import { loadTarget } from './load-target.js';
import { writeScratchConfig } from './scratch-config.js';

/** Traffic before the first deploy, so its report has a "before" to compare with. */
const WARM_UP_MS = 1_000;
/** The first answers must come this soon after the apps serve, or the load cannot reach them. */
const FIRST_ANSWER_TIMEOUT_MS = 10_000;
/** Each client's pause between two requests: a steady load that leaves the machine room to deploy. */
const CLIENT_PAUSE_MS = 5;
/** Only a safety net: the rehearsal stops its load itself. */
const LOAD_MAX_DURATION_MS = 24 * 60 * 60_000;
const FAILURES_KEPT = 500;

export interface RehearsalPlan {
  config: CutoverConfig;
  apps: AppSpec[];
  deploys: number;
  clients: number;
  strategy: StrategyName | undefined;
}

interface Running {
  daemon: ScratchDaemon;
  /** The apps as the rehearsal daemon runs them (on its ports), by name. */
  specs: Map<string, AppSpec>;
  loads: Map<string, LoadClient>;
  /** The copy's `proxy:` block: where its shared listeners are. */
  proxy?: ProxySpec;
  /** Set once stopping began (at the end, or on a signal): no deploy starts after it. */
  isStopping: boolean;
}

/**
 * Rehearses the plan's apps on a daemon of their own: starts it on a copy of the config (free
 * loopback ports), keeps a closed-loop keep-alive load on every app, deploys each app `deploys`
 * times and then once broken, and stops everything again, the scratch dir included, also on
 * Ctrl-C or SIGTERM. A rehearsal that breaks off (its daemon gone) is a failed result.
 */
export async function runRehearsal(plan: RehearsalPlan, log: (line: string) => void): Promise<RehearsalResult> {
  const startedAt = new Date();
  const started = performance.now();
  const running: Running = { daemon: new ScratchDaemon('co-rehearse-'), specs: new Map(), loads: new Map(), isStopping: false };
  let stopping: Promise<string[]> | null = null;
  const stop = (): Promise<string[]> => (stopping ??= stopAll(running, log));
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping the rehearsal (its daemon and apps; the scratch dir goes)`);
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const deploys: RehearsalDeploy[] = [];
  const problems: string[] = [];
  try {
    await start(plan, running, log);
    await runDeploys(plan, running, deploys, log);
  } catch (error) {
    // Bad input was refused before anything started: what breaks now is a failed rehearsal.
    if (!(error instanceof CutoverError)) throw error;
    problems.push(`the rehearsal broke off: ${error.message}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    problems.push(...(await stop()));
  }
  const apps = plan.apps.map((app) => appResult(app, running, deploys, plan));
  for (const app of apps) if (app.failedOutsideDeploys > 0) problems.push(`${app.name}: ${app.failedOutsideDeploys} requests failed outside its deploys`);
  return {
    isPassed: problems.length === 0 && deploys.every((deploy) => deploy.isPassed),
    config: plan.config.path,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    deploysPerApp: plan.deploys,
    clientsPerApp: plan.clients,
    strategy: plan.strategy ?? null,
    apps,
    deploys,
    problems,
  };
}

/** The daemon on the copied config, then the load on every app once they serve. */
async function start(plan: RehearsalPlan, running: Running, log: (line: string) => void): Promise<void> {
  const { daemon } = running;
  log(`scratch dir ${daemon.dir} (private; removed afterwards)`);
  const { apps: specs, proxy } = await writeScratchConfig(plan.config, plan.apps, daemon.configPath);
  for (const spec of specs) running.specs.set(spec.name, spec);
  running.proxy = proxy;
  log(`starting a daemon of its own with revision 1 of ${specs.map((s) => s.name).join(', ')}`);
  const up = await daemon.up();
  if (up.code !== 0) {
    throw new CutoverError(
      'REHEARSAL_NOT_STARTED',
      `the rehearsal daemon did not start the apps (cutover up exited ${up.code}):\n${(up.stderr.trim() || daemon.logTail()).trimEnd()}`,
      {
        hint: 'the config as it is must start: try cutover up with it',
      },
    );
  }
  log(`the rehearsal daemon (pid ${readPid(daemon.layout.pidFile) ?? '?'}) serves revision 1`);
  const requests = plan.config.rehearse?.requests ?? [DEFAULT_REHEARSAL_REQUEST];
  for (const spec of specs) {
    const { origin, host } = loadTarget(spec, proxy);
    const load = new LoadClient({
      origin,
      ...(host === undefined ? {} : { host }),
      clients: plan.clients,
      requests,
      pauseMs: CLIENT_PAUSE_MS,
      maxDurationMs: LOAD_MAX_DURATION_MS,
      onTimeLimit: 'report',
      maxFailuresKept: FAILURES_KEPT,
      isFailedStatus: (status) => status >= 500,
    });
    running.loads.set(spec.name, load);
    load.start();
    log(
      `${spec.name} serves on ${origin}${host === undefined ? '' : ` as ${host}`}: ${plan.clients} keep-alive clients send ${requests.map((r) => `${r.method} ${r.path}`).join(', ')}`,
    );
  }
  const isAnswered = await waitFor(() => [...running.loads.values()].every((load) => load.snapshot().requests > 0), FIRST_ANSWER_TIMEOUT_MS);
  if (!isAnswered) throw new CutoverError('REHEARSAL_NO_TRAFFIC', `no request got through within ${FIRST_ANSWER_TIMEOUT_MS / 1000}s of the apps serving`);
  await sleep(WARM_UP_MS);
}

/** Each app's deploys 1…N in turn, round by round, then each app's broken revision. */
async function runDeploys(plan: RehearsalPlan, running: Running, deploys: RehearsalDeploy[], log: (line: string) => void): Promise<void> {
  const rounds: { number: number; isBroken: boolean }[] = [
    ...Array.from({ length: plan.deploys }, (_, n) => ({ number: n + 1, isBroken: false })),
    { number: plan.deploys + 1, isBroken: true },
  ];
  for (const round of rounds) {
    for (const [name, load] of running.loads) {
      if (running.isStopping) return;
      const spec = running.specs.get(name)!;
      const step: DeployStep = { spec, number: round.number, count: plan.deploys, isBroken: round.isBroken, strategy: plan.strategy };
      const deploy = await rehearseDeploy(running.daemon.client, load, step, log);
      deploys.push(deploy);
      log(`\n${paint(deploy.isPassed ? 'green' : 'red', formatRehearsalDeploy(deploy))}\n`);
    }
  }
}

async function stopAll(running: Running, log: (line: string) => void): Promise<string[]> {
  running.isStopping = true;
  await Promise.all([...running.loads.values()].map((load) => load.stop()));
  log('stopping the rehearsal daemon and its apps');
  return running.daemon.stop();
}

function appResult(app: AppSpec, running: Running, deploys: RehearsalDeploy[], plan: RehearsalPlan): RehearsalApp {
  const load = running.loads.get(app.name);
  const figures = load ? loadFiguresSince(load, LOAD_START) : { requests: 0, failed: 0, p50Ms: null, p99Ms: null, failures: [] };
  const inDeploys = deploys.filter((deploy) => deploy.app === app.name).reduce((sum, deploy) => sum + deploy.load.failed, 0);
  return {
    name: app.name,
    origin: running.specs.has(app.name) && running.proxy !== undefined ? loadTarget(running.specs.get(app.name)!, running.proxy).origin : '',
    requests: plan.config.rehearse?.requests ?? [{ ...DEFAULT_REHEARSAL_REQUEST }],
    load: figures,
    byRevision: load?.snapshot().byRevision ?? {},
    failedOutsideDeploys: figures.failed - inDeploys,
  };
}
