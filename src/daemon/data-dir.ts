import fs from 'node:fs';
import path from 'node:path';
import { assertPrivateDataDir, createPrivateFile, tightenDataDir } from './private-data-dir.js';

/** Where a daemon keeps its files. One daemon per data dir. */
export interface DataDirLayout {
  root: string;
  database: string;
  socket: string;
  pidFile: string;
  daemonLog: string;
  logs: string;
  /** Bearer token of the TCP admin API (mode 0600), created by `cutover up --admin`. */
  adminToken: string;
}

export const DEFAULT_DATA_DIR_NAME = '.cutover';

/** `--data-dir`, else CUTOVER_DATA_DIR, else `.cutover/` beside the config file. */
export function resolveDataDir(configPath: string, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env.CUTOVER_DATA_DIR;
  return path.resolve(chosen ?? path.join(path.dirname(path.resolve(configPath)), DEFAULT_DATA_DIR_NAME));
}

export function dataDirLayout(root: string): DataDirLayout {
  return {
    root,
    database: path.join(root, 'state.db'),
    socket: path.join(root, 'cutover.sock'),
    pidFile: path.join(root, 'daemon.pid'),
    daemonLog: path.join(root, 'daemon.log'),
    logs: path.join(root, 'logs'),
    adminToken: path.join(root, 'admin-token'),
  };
}

/**
 * Makes the data dir (mode 0700) or checks the one given: refused (exit 2) when another user
 * owns it or may write to it. What cutover keeps there loses any group and other permission,
 * and the state database is created 0600 before SQLite opens it (its journals take its mode).
 */
export function ensureDataDir(root: string): DataDirLayout {
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  assertPrivateDataDir(root);
  const layout = dataDirLayout(root);
  tightenDataDir(root, ['state.db', 'state.db-wal', 'state.db-shm', 'daemon.log', 'daemon.pid', 'logs']);
  createPrivateFile(layout.database);
  return layout;
}
