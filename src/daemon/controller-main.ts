import { ignoreOutputErrors } from './output-errors.js';
import { ensureAdminToken } from '../api/admin-token.js';
import { startApiServer } from '../api/server.js';
import { Controller } from '../controller/controller.js';
import { IpcRouter } from '../router/builtin/ipc-router.js';
import { PerAppRouter } from '../router/per-app-router.js';
import { LocalRuntime } from '../runtime/local/local-runtime.js';
import { ContainerRuntime } from '../runtime/container/container-runtime.js';
import { RuntimeSwitch } from '../runtime/runtime-switch.js';
import { logMaxBytesFromEnv } from './log-cap.js';
import { configDriftMessage, describeSpecDifferences } from '../config/spec-diff.js';
import { specHash } from '../config/spec-hash.js';
import { parseListen } from '../config/parse-listen.js';
import type { LoadConfigOptions } from '../config/load-config.js';
import { readUpConfig, type UpConfig } from './up-config.js';
import { upOverridesFromEnv } from './up-overrides.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { ControllerRequest } from '../router/builtin/worker-messages.js';
import { ensureDataDir } from './data-dir.js';
import { lazyMetricsRegistry, startMetricsServer } from '../metrics/metrics-server.js';
import { DEFAULT_METRICS_LISTEN } from '../config/defaults.js';
import { CrashSwitch } from '../controller/crash-switch.js';
import { checkStore, StoreCorruptError } from '../store/check-store.js';
import { EXIT_STORE_CORRUPT } from '../exit-codes.js';
import { visible } from '../util/terminal-text.js';
import { bestEffort, cachedSecretMasker } from '../api/secret-masking.js';
import { startAcmeCertificates, type AcmeCertificates } from './acme-certificates.js';
import { isoTime } from '../util/iso-time.js';

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
  const log = (line: string): void => console.log(`${isoTime()} ${visible(maskSecrets(line))}`);
  try {
    checkStore(layout.database);
  } catch (error) {
    if (!(error instanceof StoreCorruptError)) throw error;
    console.error(`${error.message}\n${error.hint ?? ''}`);
    // A distinct code: the primary stops instead of restarting a controller that cannot work.
    process.exit(EXIT_STORE_CORRUPT);
  }
  const store = new SqliteStore(layout.database);
  const secretMasker = cachedSecretMasker(store);
  maskSecrets = (line) => bestEffort(secretMasker)(line);
  // Test-only fault injection; the primary gives it to the first controller only.
  const crashSwitch = CrashSwitch.fromEnv(process.env);
  if (crashSwitch) log(`fault injection: this controller kills itself after the ${crashSwitch.occurrence}. ${crashSwitch.kind} event of an API rollout`);
  const router = new PerAppRouter({ builtin: new IpcRouter(), specOf: (app) => store.latestRevision(app)?.spec, dataDir: layout.root, log });
  const containers = new ContainerRuntime({ dataDir: layout.root, logMaxBytes: logMaxBytesFromEnv() });
  const controller = new Controller({
    store,
    runtime: new RuntimeSwitch({ process: new LocalRuntime({ logMaxBytes: logMaxBytesFromEnv() }), container: containers }),
    images: containers,
    router,
    dataDir: layout.root,
    specHash,
    log,
    onEventStored: crashSwitch ? (kind, rolloutId) => crashSwitch.onEventStored(kind, rolloutId) : undefined,
  });

  let metrics: Awaited<ReturnType<typeof startMetricsServer>> = null;
  // What this controller runs without, for `/health` (and so `up`) to say.
  const warnings: string[] = [];
  let certificates: AcmeCertificates | null = null;
  let isShuttingDown = false;
  const shutdown = async (): Promise<void> => {
    if (isShuttingDown) return;
    isShuttingDown = true;
    log('stopping: draining and stopping every instance');
    await controller.shutdown();
    servers.close();
    metrics?.server.close();
    await certificates?.stop();
    store.close();
    if (process.connected) {
      process.send!({ type: 'shutdown' } satisfies ControllerRequest);
      process.disconnect();
    }
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  // The primary vanished without asking us to stop (SIGKILL, a crash): stopping the apps would
  // turn a daemon crash into an outage. Step down; the next `cutover up` adopts the instances.
  process.on('disconnect', () => stepDown('the daemon primary is gone; this controller steps down and the instances keep running for the next `cutover up`'));
  // `cutover restart`: step down, instances untouched; the next controller adopts them.
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'handover') stepDown('restart: this controller steps down; the instances keep running for the next one');
  });
  function stepDown(reason: string): void {
    if (isShuttingDown) return;
    isShuttingDown = true;
    log(reason);
    void controller
      .stepDown()
      .catch((error: unknown) => log(`stepping down: ${(error as Error).message}`))
      .finally(() => {
        try {
          servers.close();
        } catch {
          // Not started yet.
        }
        metrics?.server.close();
        store.close();
        process.exit(0);
      });
  }

  await controller.start();
  if (isShuttingDown) return;
  const adminListen = process.env.CUTOVER_ADMIN_LISTEN ? parseListen(process.env.CUTOVER_ADMIN_LISTEN) : undefined;
  const uiListen = process.env.CUTOVER_UI_LISTEN ? parseListen(process.env.CUTOVER_UI_LISTEN) : undefined;
  const servers = await startApiServer({
    controller,
    store,
    socketPath: layout.socket,
    onShutdown: () => void shutdown(),
    warnings: () => warnings,
    ...(adminListen ? { tcp: { listen: adminListen, token: ensureAdminToken(layout.adminToken) } } : {}),
    ...(uiListen ? { ui: { listen: uiListen, token: ensureAdminToken(layout.adminToken) } } : {}),
  });
  if (uiListen) log(`dashboard on http://${process.env.CUTOVER_UI_LISTEN} (log in with the token in ${layout.adminToken})`);
  if (adminListen) log(`admin API also on http://${process.env.CUTOVER_ADMIN_LISTEN} (bearer token in ${layout.adminToken})`);
  const readConfig = (options: LoadConfigOptions): Promise<UpConfig> => configAsUpRead(layout.root, configPath, options);
  metrics = await startMetrics(readConfig, controller, store, log, (warning) => warnings.push(warning));
  if (process.env.CUTOVER_INITIAL_DEPLOY === '1') await deployConfig(controller, store, readConfig, configPath, log, crashSwitch);
  certificates = await startCertificates(readConfig, store, layout.root, log, (warning) => warnings.push(warning));
  if (process.connected) process.send!({ type: 'ready' } satisfies ControllerRequest);
}

/**
 * The config as `cutover up` read it (`up-config.ts`); without one, the config file, read here
 * (which loads the config's parser).
 */
async function configAsUpRead(dataDir: string, configPath: string, options: LoadConfigOptions): Promise<UpConfig> {
  const fromUp = readUpConfig(dataDir);
  if (fromUp !== undefined) return fromUp;
  const { loadConfig } = await import('../config/load-config.js');
  return loadConfig(configPath, options);
}

type ReadConfig = (options: LoadConfigOptions) => Promise<UpConfig>;

/**
 * `/metrics` on the config's `metrics.listen`, behind its `metrics.token`. A config that cannot
 * be read leaves /metrics off: serving it on the default address could drop a token it sets.
 */
async function startMetrics(
  readConfig: ReadConfig,
  controller: Controller,
  store: SqliteStore,
  log: (line: string) => void,
  onUnbound: (warning: string) => void,
): ReturnType<typeof startMetricsServer> {
  let metrics;
  try {
    metrics = (await readConfig({ shouldReadAppEnv: false })).metrics ?? { listen: parseListen(DEFAULT_METRICS_LISTEN) };
  } catch (error) {
    log(`metrics: the config cannot be read (${(error as Error).message}); /metrics is not served until the daemon restarts`);
    return null;
  }
  if (metrics.listen === null) return null;
  return startMetricsServer(
    metrics.listen,
    lazyMetricsRegistry({ history: controller.history, analyses: controller.analyses, store }),
    log,
    metrics.token,
    onUnbound,
  );
}

/**
 * ACME certificates when the config asks for them (`proxy.tls.acme`); a config that cannot be
 * read starts none. A manager that cannot start (its CA file gone since `up` checked it) is
 * logged and becomes a `/health` warning: no certificate would ever be obtained or renewed.
 */
async function startCertificates(
  readConfig: ReadConfig,
  store: SqliteStore,
  dataDir: string,
  log: (line: string) => void,
  onNotManaged: (warning: string) => void,
): Promise<AcmeCertificates | null> {
  try {
    return await startAcmeCertificates({ dataDir, tls: (await readConfig({ shouldReadAppEnv: false })).proxy?.tls, store, log });
  } catch (error) {
    const warning = `certificates: not managed (${(error as Error).message})`;
    log(warning);
    onNotManaged(warning);
    return null;
  }
}

/**
 * `cutover up` deploys the config, app by app: one app's trouble must not hold back the others.
 * What was deployed stays deployed: an app with a stable revision comes back at it (`--set`
 * overrides included) and, when the file makes another revision, the log says what differs.
 */
async function deployConfig(
  controller: Controller,
  store: SqliteStore,
  readConfig: ReadConfig,
  configPath: string,
  log: (line: string) => void,
  crashSwitch: CrashSwitch | null,
): Promise<void> {
  let apps;
  const overrides = upOverridesFromEnv();
  // `up --set web.…` asks for web as set: it is deployed even when a stable revision exists.
  const isSetByUp = (app: string): boolean => overrides.some((override) => override.startsWith(`${app}.`));
  try {
    apps = (await readConfig({ overrides })).apps;
  } catch (error) {
    log(`cannot deploy ${configPath}: ${(error as Error).message}`);
    return;
  }
  for (const spec of apps) {
    try {
      // A cluster app may have been driven from another machine: its state comes from the cluster first.
      await controller.takeClusterStates([spec]);
      const stable = store.stableRevision(spec.name);
      const record = stable === null ? null : store.getRevision(spec.name, stable);
      if (record !== null && record.specHash !== specHash(spec) && !isSetByUp(spec.name)) {
        log(`[${spec.name}] ${configDriftMessage(record.number, describeSpecDifferences(record.spec, spec))}`);
        continue;
      }
      // The daemon's own deploy does not count for the crash switch: tests count from their first API call.
      const resolved = await controller.resolveImages([spec]);
      const deploy = (): ReturnType<Controller['deploy']> => controller.deploy(resolved, { overrides });
      // An app with release: first takes its files (asynchronous): a snapshot, hashed, before any revision.
      const [result] = spec.release ? await controller.ship(resolved, { overrides }) : crashSwitch ? crashSwitch.ignoring(deploy) : deploy();
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
