import path from 'node:path';
import { CutoverClient } from '../api/client.js';
import { dataDirLayout, resolveDataDir, type DataDirLayout } from '../daemon/data-dir.js';

export const DEFAULT_CONFIG_FILE = 'cutover.yaml';

export interface GlobalOptions {
  config: string;
  dataDir?: string;
}

export interface CommandContext {
  configPath: string;
  layout: DataDirLayout;
  client: CutoverClient;
}

/** Every command finds the config and the daemon the same way: -c, then --data-dir or CUTOVER_DATA_DIR. */
export function commandContext(options: GlobalOptions): CommandContext {
  const configPath = path.resolve(options.config);
  const layout = dataDirLayout(resolveDataDir(configPath, options.dataDir));
  return { configPath, layout, client: new CutoverClient({ socketPath: layout.socket }) };
}
