import { startApiServer } from '../api/server.js';
import { Controller } from '../controller/controller.js';
import { IpcRouter } from '../router/builtin/ipc-router.js';
import { LocalRuntime } from '../runtime/local/local-runtime.js';
import { loadConfig, specHash } from '../spec/index.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { ControllerRequest } from './messages.js';
import { ensureDataDir } from './data-dir.js';

/**
 * The control plane process: state, the reconcile loop, the admin API. It can die and be
 * restarted by the primary without the proxy dropping a request.
 */
async function main(): Promise<void> {
  const layout = ensureDataDir(process.env.CUTOVER_DATA_DIR!);
  const configPath = process.env.CUTOVER_CONFIG!;
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const store = new SqliteStore(layout.database);
  const controller = new Controller({ store, runtime: new LocalRuntime(), router: new IpcRouter(), dataDir: layout.root, specHash, log });

  let isShuttingDown = false;
  const shutdown = async (): Promise<void> => {
    if (isShuttingDown) return;
    isShuttingDown = true;
    log('stopping: draining and stopping every instance');
    await controller.shutdown();
    server.close();
    store.close();
    process.send!({ type: 'shutdown' } satisfies ControllerRequest);
    process.disconnect();
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('disconnect', () => void shutdown());

  await controller.start();
  const server = await startApiServer({ controller, store, socketPath: layout.socket, onShutdown: () => void shutdown() });
  try {
    const config = loadConfig(configPath);
    for (const result of controller.deploy(config.apps)) {
      if (result.isUnchanged) log(`[${result.app}] revision ${result.revision} is current`);
    }
  } catch (error) {
    log(`initial deploy of ${configPath} failed: ${(error as Error).message}`);
  }
  process.send!({ type: 'ready' } satisfies ControllerRequest);
}

void main().catch((error: unknown) => {
  console.error(`controller failed to start: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
