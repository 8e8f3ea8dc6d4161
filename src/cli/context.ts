import path from 'node:path';
import { CutoverClient } from '../api/client.js';
import { dataDirLayout, resolveDataDir, type DataDirLayout } from '../daemon/data-dir.js';
import { describeSshHost, parseSshHost, type SshHost } from './remote/ssh-host.js';
import { dialSsh } from './remote/ssh-transport.js';

export const DEFAULT_CONFIG_FILE = 'cutover.yaml';

/** The daemon on another machine: `--host ssh://USER@HOST[:PORT][/DIR]`, else this variable. */
export const HOST_ENV = 'CUTOVER_HOST';

export interface GlobalOptions {
  config: string;
  dataDir?: string;
  /** `--host`: the daemon is on another machine, reached over SSH. */
  host?: string;
}

export interface CommandContext {
  configPath: string;
  layout: DataDirLayout;
  client: CutoverClient;
  /** Set when the daemon is on another machine (then `layout` describes nothing there). */
  remote: SshHost | null;
}

/** The remote daemon asked for by --host or CUTOVER_HOST (validated), or null for the local one. */
export function remoteHost(options: Pick<GlobalOptions, 'host'>, env: NodeJS.ProcessEnv = process.env): SshHost | null {
  const text = options.host ?? env[HOST_ENV];
  return text ? parseSshHost(text) : null;
}

/**
 * Every command finds the config and the daemon the same way: -c, then --data-dir or
 * CUTOVER_DATA_DIR; with --host (or CUTOVER_HOST) the daemon is the one on that machine, over SSH,
 * while the config stays this machine's.
 */
export function commandContext(options: GlobalOptions): CommandContext {
  const configPath = path.resolve(options.config);
  const layout = dataDirLayout(resolveDataDir(configPath, options.dataDir));
  const remote = remoteHost(options);
  const client =
    remote === null
      ? new CutoverClient({ socketPath: layout.socket })
      : new CutoverClient({ connect: () => dialSsh(remote), describe: describeSshHost(remote) });
  return { configPath, layout, client, remote };
}
