import { ignoreOutputErrors } from './output-errors.js';
import { capDaemonLog, logMaxBytesFromEnv } from './log-cap.js';
import cluster, { type Worker } from 'node:cluster';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProxySpec } from '../model/app-spec.js';
import type { TrafficPlan } from '../model/traffic-plan.js';
import { DEFAULT_CLOSE_TIMEOUT_MS } from '../proxy/proxy-options.js';
import type { ControllerReply, ControllerRequest, WorkerCommand, WorkerReply } from '../router/builtin/worker-messages.js';
import { ignoreSendError, sumInflight, WorkerFanout } from './worker-fanout.js';
import { acquireDaemonLock } from './daemon-lock.js';
import { ensureDataDir } from './data-dir.js';
import { CRASH_AFTER_ENV } from '../controller/crash-switch.js';
import { EXIT_STORE_CORRUPT } from '../exit-codes.js';
import { workerEnvironment } from './worker-proxy-options.js';
import { heldAsListening, HeldSockets, planKeys, planSocketKey, rawHandle, servedKeys } from './held-sockets.js';
import { handOver, HANDOVER_FROM_ENV, stepDown } from './daemon-handover.js';
import { PredecessorHold } from './predecessor-hold.js';
import { readRestartRequest, takeOverDaemonLock } from './successor.js';
import type { ListeningSocket } from '../proxy/listening-sockets.js';
import { LastPlans, lastPlansFile } from './last-plans.js';

export const DEFAULT_WORKERS = 1;
/** How long a restart's new daemon waits for plans on every inherited socket before it says it serves. */
const SUCCESSOR_PLANS_LIMIT_MS = 5_000;

const RESTART_BACKOFF_MS = [100, 250, 500, 1_000, 2_000, 5_000];
/** Longer than the proxy's own close timeout, so workers finish draining by themselves. */
const WORKER_DRAIN_LIMIT_MS = DEFAULT_CLOSE_TIMEOUT_MS + 5_000;
/** How long a reload waits for its new workers to serve before giving up and keeping the old ones. */
const RELOAD_START_LIMIT_MS = 15_000;

export interface PrimaryOptions {
  configPath: string;
  dataDir: string;
  workers: number;
  /** `--admin HOST:PORT`: the controller also serves the admin API there, with a bearer token. */
  admin?: string;
  /** `--ui HOST:PORT`: the controller also serves the dashboard there. */
  ui?: string;
  /** The config's `proxy:` block, for every proxy worker (defaults when absent). */
  proxy?: ProxySpec;
  log: (line: string) => void;
  /** Called once the controller serves its API and the initial deploy has started. */
  onReady?: () => void;
}

/**
 * The primary: small on purpose. It holds the listening sockets (through cluster), keeps the
 * last plan of every app, restarts dead proxy workers with those plans before they accept a
 * connection, and restarts the controller. It never touches a request itself.
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  // Logs go to a file; a full disk must not take the process down with an unhandled 'error'.
  ignoreOutputErrors();
  const layout = ensureDataDir(options.dataDir);
  // Started by `cutover restart`: the old daemon holds the lock until this one serves.
  const handoverFrom = Number(process.env[HANDOVER_FROM_ENV]) || undefined;
  delete process.env[HANDOVER_FROM_ENV];
  let releaseLock = handoverFrom === undefined ? acquireDaemonLock(layout.pidFile, options.dataDir) : (): void => {};
  // Listening sockets from systemd or from the daemon this one replaces; workers listen on them.
  const held = HeldSockets.fromEnvironment(process.env, options.log);
  if (held.size > 0) options.log(`listening sockets inherited: ${held.keys().join(', ')}`);
  let isHandingOver = false;
  /** Plans sent to the workers and not yet acknowledged. */
  let pendingPlans = 0;
  let hasBeenReady = false;
  /** Set while a restart collects a worker's sockets: they arrive one message each, before its reply. */
  let collecting: { worker: Worker; sockets: ListeningSocket[] } | undefined;
  // daemon.log is capped and rotated like instance logs (its timer does not hold the process up).
  capDaemonLog(layout.daemonLog, logMaxBytesFromEnv());
  const plans = new Map<string, TrafficPlan>();
  const versions = new Map<string, number>();
  const startedWorkers = new Set<Worker>();
  const fanout = new WorkerFanout((moved) => controller?.connected && controller.send(moved satisfies ControllerReply, ignoreSendError));
  const lastPlans = new LastPlans(lastPlansFile(layout.root));
  const remembered = lastPlans.restore({ plans, versions, isWanted: handoverFrom === undefined, log: options.log, drop: (app) => void dropPlan(app) });
  // A restart's new daemon: the apps the old workers serve on the shared listeners, which the new ones wait for.
  let awaitedFrontDoorApps = handoverFrom === undefined ? [] : lastPlans.frontDoorApps();
  const predecessor = handoverFrom === undefined ? undefined : new PredecessorHold(handoverFrom, lastPlans.endpointIds());
  const restartTimers = new Set<NodeJS.Timeout>();
  let isStopping = false;
  let isFirstController = true;
  let controller: ChildProcess | null = null;
  let controllerRestarts = 0;
  let workerRestarts = 0;
  let resolveExit: (code: number) => void = () => {};

  // The kernel hands connections to workers (SCHED_NONE): a worker that dies loses only its own
  // connections, while the backlog stays with the listening socket the other workers share.
  // Round-robin in the primary would strand a connection handed to a worker at the moment it died.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)), args: [] });

  /** Old workers a reload told to drain: their exit is expected, not restarted. */
  const retiring = new Set<Worker>();
  let isReloading = false;

  /** Forks a proxy worker; the promise resolves once it serves every current plan (it listens then). */
  function forkWorker(): { worker: Worker; isServing: Promise<boolean> } {
    let markServing: (isServing: boolean) => void = () => {};
    const isServing = new Promise<boolean>((resolve) => (markServing = resolve));
    const worker = cluster.fork(workerEnvironment(options.proxy, options.dataDir, awaitedFrontDoorApps));
    worker.on('message', (message: WorkerReply, handle?: object) => {
      if (message.type === 'listeningSocket') {
        if (handle && collecting?.worker === worker) collecting.sockets.push({ host: message.host, port: message.port, handle });
        return;
      }
      if (message.type === 'started') {
        // Held sockets first (one handle per message), so the worker listens on them, not on new ones.
        for (const [key, socket] of held.entries()) worker.send({ type: 'socket', key } satisfies WorkerCommand, rawHandle(socket));
        // The worker listens only once it holds every current plan.
        void remembered.then(async () => {
          if (!worker.isConnected() || !startedWorkers.add(worker)) return;
          const { replies, missing } = await fanout.send([worker], { type: 'plans', plans: [...plans.values()] });
          markServing(missing === 0 && replies.every((r) => !r.error));
        });
        return;
      }
      fanout.onReply(worker, message);
    });
    worker.on('exit', (code, signal) => {
      startedWorkers.delete(worker);
      fanout.onExit(worker);
      markServing(false);
      if (isStopping || retiring.delete(worker)) return;
      options.log(`proxy worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
      const delay = RESTART_BACKOFF_MS[Math.min(workerRestarts++, RESTART_BACKOFF_MS.length - 1)]!;
      later(delay, forkWorker);
    });
    return { worker, isServing };
  }

  /**
   * `cutover reload` / SIGHUP: a new set of proxy workers (new code, if the package was
   * upgraded), then the old ones drain. The new workers get every plan before they listen, and
   * listen on the handles the primary already holds (cluster shares them), so the listening
   * sockets never close: new connections go to old and new workers alike until the old ones stop
   * listening, and the old ones finish what they serve (up to their close timeout). If a new
   * worker cannot serve within RELOAD_START_LIMIT_MS, the old ones stay.
   */
  async function reload(): Promise<void> {
    if (isStopping || isReloading) return;
    isReloading = true;
    try {
      const old = [...Object.values(cluster.workers ?? {})].filter((w): w is Worker => w !== undefined && !retiring.has(w));
      options.log(`reload: starting ${options.workers} new proxy worker(s), then draining ${old.length} old one(s)`);
      const fresh = Array.from({ length: options.workers }, () => forkWorker());
      const limit = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), RELOAD_START_LIMIT_MS).unref());
      const isServing = await Promise.race([Promise.all(fresh.map((f) => f.isServing)).then((all) => all.every(Boolean)), limit]);
      if (!isServing || isStopping) {
        options.log('reload: the new proxy workers did not all start serving; the old ones stay');
        return;
      }
      for (const worker of old) {
        retiring.add(worker);
        startedWorkers.delete(worker);
        if (worker.isConnected()) worker.send({ type: 'drain', isGentle: true } satisfies WorkerCommand);
        setTimeout(() => worker.process.kill('SIGKILL'), WORKER_DRAIN_LIMIT_MS).unref();
      }
      options.log(`reload: ${fresh.length} new proxy worker(s) serve; the old ones drain`);
    } finally {
      isReloading = false;
    }
  }

  /** Restarts wait a little; a stop cancels the ones not yet done. */
  function later(delayMs: number, action: () => void): void {
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (!isStopping) action();
    }, delayMs);
    restartTimers.add(timer);
  }

  /** Handles one request of `child`, and answers that child only: a restarted controller numbers its requests anew. */
  async function handleController(child: ChildProcess, message: ControllerRequest): Promise<void> {
    const reply = (body: Omit<ControllerReply, 'type' | 'requestId'>, requestId: number): void => {
      if (child.connected) child.send({ type: 'reply', requestId, ...body } satisfies ControllerReply);
    };
    switch (message.type) {
      case 'plan': {
        const version = (versions.get(message.plan.app) ?? 0) + 1;
        versions.set(message.plan.app, version);
        const plan = { ...message.plan, version };
        const previous = plans.get(plan.app);
        plans.set(plan.app, plan);
        lastPlans.saveSoon(() => plans.values(), plan.app);
        releaseUnheld(previous);
        pendingPlans++;
        const { replies, missing } = await fanout.send(startedWorkers, { type: 'plans', plans: [plan] }).finally(() => pendingPlans--);
        const failed = replies.find((r) => r.error);
        const error = failed?.error ?? (missing > 0 ? `${missing} proxy worker(s) did not acknowledge plan ${version} of ${plan.app}` : undefined);
        reply(error ? { error } : {}, message.requestId);
        return;
      }
      case 'removeApp':
        return dropPlan(message.app).then(() => reply({}, message.requestId));
      case 'inflight': {
        const { replies, missing } = await fanout.send(startedWorkers, { type: 'inflight' });
        if (missing > 0) {
          reply({ error: `${missing} proxy worker(s) did not report in-flight counts` }, message.requestId);
          return;
        }
        const total = sumInflight(replies);
        predecessor?.addTo(total);
        reply({ inflight: total }, message.requestId);
        return;
      }
      case 'measurements': {
        // Workers that do not answer are left out: a sample with fewer counts, never a blocked request.
        // Per worker: the controller tells a restarted worker (counts from 0 again) by its source.
        const { replies } = await fanout.send(startedWorkers, { type: 'measurements' });
        reply({ measurements: replies.flatMap((r) => (r.measurements ? [r.measurements] : [])) }, message.requestId);
        return;
      }
      case 'ready':
        controllerRestarts = 0;
        if (hasBeenReady) return;
        hasBeenReady = true;
        if (handoverFrom !== undefined) void becomeSuccessor();
        else options.onReady?.();
        return;
      case 'shutdown':
        lastPlans.remove();
        void stop(0);
        return;
    }
  }

  /** An app's plan is gone: from every worker, and from what a crash would leave. */
  async function dropPlan(app: string): Promise<void> {
    const previous = plans.get(app);
    plans.delete(app);
    lastPlans.saveSoon(() => plans.values(), app);
    releaseUnheld(previous);
    await fanout.send(startedWorkers, { type: 'removeApp', app });
  }

  function startController(): void {
    // Only the first controller deploys the config: a restarted one must not undo a rollback
    // or a --set deploy by shipping the file again.
    // The test-only crash switch (CUTOVER_CRASH_AFTER) goes to the first controller only, so the
    // one that replaces it runs to the end. After a restart, the first controller adopts, never deploys.
    const { [CRASH_AFTER_ENV]: crashAfter, ...inherited } = process.env;
    const child = fork(fileURLToPath(new URL('./controller-main.js', import.meta.url)), [], {
      env: {
        ...inherited,
        ...(isFirstController && crashAfter ? { [CRASH_AFTER_ENV]: crashAfter } : {}),
        CUTOVER_ROLE: 'controller',
        CUTOVER_CONFIG: options.configPath,
        CUTOVER_DATA_DIR: options.dataDir,
        CUTOVER_INITIAL_DEPLOY: isFirstController && handoverFrom === undefined ? '1' : '0',
        ...(options.admin ? { CUTOVER_ADMIN_LISTEN: options.admin } : {}),
        ...(options.ui ? { CUTOVER_UI_LISTEN: options.ui } : {}),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    isFirstController = false;
    controller = child;
    child.on('message', (message: ControllerRequest) => void handleController(child, message));
    child.on('exit', (code, signal) => {
      if (controller === child) controller = null;
      if (isStopping || isHandingOver) return;
      if (handoverFrom !== undefined && !hasBeenReady) {
        // A new daemon whose controller cannot start gives up: the old daemon serves on.
        options.log(`controller exited (${signal ?? `code ${code}`}) before it served; this new daemon stops, the old one serves on`);
        void stop(1);
        return;
      }
      if (code === 0 || code === EXIT_STORE_CORRUPT) {
        // A corrupt state database does not heal by restarting: stop, with the controller's code.
        if (code === EXIT_STORE_CORRUPT) options.log('the controller found the state database corrupt; stopping');
        void stop(code);
        return;
      }
      options.log(`controller exited (${signal ?? `code ${code}`}); restarting it, the proxy keeps serving meanwhile`);
      const delay = RESTART_BACKOFF_MS[Math.min(controllerRestarts++, RESTART_BACKOFF_MS.length - 1)]!;
      later(delay, startController);
    });
  }

  async function stop(code: number): Promise<void> {
    if (isStopping) return;
    isStopping = true;
    for (const timer of restartTimers) clearTimeout(timer);
    await drainWorkers(false);
    releaseLock();
    resolveExit(code);
  }

  /** Every proxy worker finishes what it serves (gently: other processes accept on), then exits. */
  async function drainWorkers(isGentle: boolean): Promise<void> {
    const workers = isGentle ? Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined) : [...startedWorkers];
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve());
            if (w.isConnected()) w.send({ type: 'drain', isGentle } satisfies WorkerCommand);
            setTimeout(() => {
              w.process.kill('SIGKILL');
              resolve();
            }, WORKER_DRAIN_LIMIT_MS).unref();
          }),
      ),
    );
  }

  /** SIGINT/SIGTERM: the controller stops the apps gracefully, then tells us to go. */
  const onSignal = (): void => {
    if (controller?.connected) controller.kill('SIGTERM');
    else void stop(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onHangup = (): void => void reload();
  process.on('SIGHUP', onHangup);
  const onRestart = (): void => void restart();
  process.on('SIGUSR2', onRestart);

  /** Held sockets no plan listens on any more are let go: their addresses may be bound anew. */
  function releaseUnheld(previous: TrafficPlan | undefined): void {
    if (previous === undefined || held.size === 0) return;
    const inUse = new Set([...plans.values()].flatMap(planKeys));
    held.release(planKeys(previous).filter((key) => !inUse.has(key)));
  }

  /** A successor serves once its workers hold a plan on every socket it inherited (or after a few seconds: an app may be gone). */
  async function becomeSuccessor(): Promise<void> {
    const deadline = performance.now() + SUCCESSOR_PLANS_LIMIT_MS;
    const covered = (): boolean => {
      const listening = new Set(servedKeys(plans.values(), options.proxy));
      return held.keys().every((key) => listening.has(key)) && awaitedFrontDoorApps.every((app) => plans.has(app)) && pendingPlans === 0;
    };
    while (!covered() && performance.now() < deadline && !isStopping) await new Promise((resolve) => setTimeout(resolve, 50));
    if (isStopping) return;
    awaitedFrontDoorApps = [];
    releaseLock = takeOverDaemonLock(layout.pidFile, handoverFrom!);
    options.log(`serving: the daemon (pid ${handoverFrom}) this one replaces drains its proxy workers`);
    if (process.connected) {
      process.send!({ type: 'serving' });
      process.disconnect();
    }
    options.onReady?.();
  }

  /** `cutover restart` (SIGUSR2 after it wrote its request): see `handOver`. */
  async function restart(): Promise<void> {
    const request = readRestartRequest(layout.root);
    if (request === undefined || isStopping || isHandingOver || isReloading) return;
    isHandingOver = true;
    await handOver(request, {
      configPath: options.configPath,
      dataDir: layout.root,
      daemonLog: layout.daemonLog,
      current: { workers: options.workers, admin: options.admin, ui: options.ui },
      collectSockets: async () => {
        const worker = [...startedWorkers][0];
        if (worker === undefined) return [];
        collecting = { worker, sockets: [] };
        await fanout.send([worker], { type: 'listeningSockets' });
        const { sockets } = collecting;
        collecting = undefined;
        // Sockets it inherited but no plan uses yet go along too.
        const found = new Set(sockets.map((s) => planSocketKey({ host: s.host, port: s.port })));
        for (const [key, socket] of held.entries()) if (!found.has(key)) sockets.push(heldAsListening(socket));
        return sockets;
      },
      stopController: () => stepDown(controller),
      restartController: () => {
        isHandingOver = false;
        startController();
      },
      retire: async () => {
        isStopping = true;
        await drainWorkers(true);
        resolveExit(0);
      },
      log: options.log,
    }).catch((error: unknown) => {
      options.log(`restart failed: ${(error as Error).message}`);
      isHandingOver = false;
      if (controller === null && !isStopping) startController();
    });
  }

  for (let n = 0; n < options.workers; n++) forkWorker();
  startController();
  return new Promise<number>((resolve) => {
    resolveExit = (code) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onHangup);
      process.off('SIGUSR2', onRestart);
      resolve(code);
    };
  });
}
