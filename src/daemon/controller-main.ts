import { ignoreOutputErrors } from './output-errors.js';
import { ensureAdminToken } from '../api/admin-token.js';
import { startApiServer } from '../api/server.js';
import { Controller } from '../controller/controller.js';
import { IpcRouter } from '../router/builtin/ipc-router.js';
import { PerAppRouter } from '../router/per-app-router.js';
import { LocalRuntime } from '../runtime/local/local-runtime.js';
import { logMaxBytesFromEnv } from './log-cap.js';
import { loadConfig, parseListen, specHash } from '../config/index.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { ControllerRequest } from '../router/builtin/worker-messages.js';
import { ensureDataDir } from './data-dir.js';
import { createMetricsRegistry, startMetricsServer } from '../metrics/metrics-server.js';
import { DEFAULT_METRICS_LISTEN } from '../config/defaults.js';
import { CrashSwitch } from '../controller/crash-switch.js';
import { checkStore, StoreCorruptError } from '../store/check-store.js';
import { EXIT_STORE_CORRUPT } from '../exit-codes.js';
import { visible } from '../util/terminal-text.js';
import { bestEffortSecretMasker } from '../api/secret-masking.js';

/**
 * The control plane process: state, the reconcile loop, the admin API. It can die and be
 * restarted by the primary without the proxy dropping a request.
 */
async function main(): Promise<void> {
  // Logs go to a file; a full disk must not take the process down with an unhandled 'error'.
  ignoreOutputErrors();
  const layout = ensureDataDir(process.env.CUTOVER_DATA_DIR!);
  const configPath = process.env.CUTOVER_CONFIG!;
  // Log lines quote hook output and app log lines, to a terminal (up in the foreground) or daemon.log: secrets masked, control characters shown.
  let maskSecrets = (line: string): string => line;
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${visible(maskSecrets(line))}`);
  try {
    checkStore(layout.database);
  } catch (error) {
    if (!(error instanceof StoreCorruptError)) throw error;
    console.error(`${error.message}\n${error.hint ?? ''}`);
    // A distinct code: the primary stops instead of restarting a controller that cannot work.
    process.exit(EXIT_STORE_CORRUPT);
  }
  const store = new SqliteStore(layout.database);
  maskSecrets = (line) => bestEffortSecretMasker(store)(line);
  // Test-only fault injection; the primary gives it to the first controller only.
  const crashSwitch = CrashSwitch.fromEnv(process.env);
  if (crashSwitch) log(`fault injection: this controller kills itself after the ${crashSwitch.occurrence}. ${crashSwitch.kind} event of an API rollout`);
  const router = new PerAppRouter({ builtin: new IpcRouter(), specOf: (app) => store.latestRevision(app)?.spec, dataDir: layout.root, log });
  const controller = new Controller({
    store,
    runtime: new LocalRuntime({ logMaxBytes: logMaxBytesFromEnv() }),
    router,
    dataDir: layout.root,
    specHash,
    log,
    onEventStored: crashSwitch ? (kind, rolloutId) => crashSwitch.onEventStored(kind, rolloutId) : undefined,
  });

  let metrics: Awaited<ReturnType<typeof startMetricsServer>> = null;
  let isShuttingDown = false;
  const shutdown = async (): Promise<void> => {
    if (isShuttingDown) return;
    isShuttingDown = true;
    log('stopping: draining and stopping every instance');
    await controller.shutdown();
    servers.close();
    metrics?.server.close();
    store.close();
    if (process.connected) {
      process.send!({ type: 'shutdown' } satisfies ControllerRequest);
      process.disconnect();
    }
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('disconnect', () => void shutdown());

  await controller.start();
  const adminListen = process.env.CUTOVER_ADMIN_LISTEN ? parseListen(process.env.CUTOVER_ADMIN_LISTEN) : undefined;
  const uiListen = process.env.CUTOVER_UI_LISTEN ? parseListen(process.env.CUTOVER_UI_LISTEN) : undefined;
  const servers = await startApiServer({
    controller,
    store,
    socketPath: layout.socket,
    onShutdown: () => void shutdown(),
    ...(adminListen ? { tcp: { listen: adminListen, token: ensureAdminToken(layout.adminToken) } } : {}),
    ...(uiListen ? { ui: { listen: uiListen, token: ensureAdminToken(layout.adminToken) } } : {}),
  });
  if (uiListen) log(`dashboard on http://${process.env.CUTOVER_UI_LISTEN} (log in with the token in ${layout.adminToken})`);
  if (adminListen) log(`admin API also on http://${process.env.CUTOVER_ADMIN_LISTEN} (bearer token in ${layout.adminToken})`);
  metrics = await startMetrics(configPath, controller, store, log);
  if (process.env.CUTOVER_INITIAL_DEPLOY === '1') await deployConfig(controller, configPath, log, crashSwitch);
  if (process.connected) process.send!({ type: 'ready' } satisfies ControllerRequest);
}

/**
 * `/metrics` on the config's `metrics.listen`, behind its `metrics.token`. A config that cannot
 * be read leaves /metrics off: serving it on the default address could drop a token it sets.
 */
async function startMetrics(
  configPath: string,
  controller: Controller,
  store: SqliteStore,
  log: (line: string) => void,
): ReturnType<typeof startMetricsServer> {
  let metrics;
  try {
    metrics = loadConfig(configPath, { shouldReadAppEnv: false }).metrics ?? { listen: parseListen(DEFAULT_METRICS_LISTEN) };
  } catch (error) {
    log(`metrics: the config cannot be read (${(error as Error).message}); /metrics is not served until the daemon restarts`);
    return null;
  }
  if (metrics.listen === null) return null;
  return startMetricsServer(metrics.listen, createMetricsRegistry({ history: controller.history, analyses: controller.analyses, store }), log, metrics.token);
}

/** `cutover up` deploys the config, app by app: one app's trouble must not hold back the others. */
async function deployConfig(controller: Controller, configPath: string, log: (line: string) => void, crashSwitch: CrashSwitch | null): Promise<void> {
  let apps;
  try {
    apps = loadConfig(configPath).apps;
  } catch (error) {
    log(`cannot deploy ${configPath}: ${(error as Error).message}`);
    return;
  }
  for (const spec of apps) {
    try {
      // A cluster app may have been driven from another machine: its state comes from the cluster first.
      await controller.takeClusterStates([spec]);
      // The daemon's own deploy does not count for the crash switch: tests count from their first API call.
      const deploy = (): ReturnType<Controller['deploy']> => controller.deploy([spec]);
      // An app with release: first takes its files (asynchronous): a snapshot, hashed, before any revision.
      const [result] = spec.release ? await controller.ship([spec]) : crashSwitch ? crashSwitch.ignoring(deploy) : deploy();
      if (result?.isUnchanged) log(`[${spec.name}] revision ${result.revision} is current`);
    } catch (error) {
      log(`[${spec.name}] not deployed: ${(error as Error).message}`);
    }
  }
}

void main().catch((error: unknown) => {
  console.error(`controller failed to start: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
