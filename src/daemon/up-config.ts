import path from 'node:path';
import type { CutoverConfig } from '../model/app-spec.js';
import { readJson, writePrivateJson } from './restart-files.js';

/** What the controller needs of the config: the apps `up` deploys, `/metrics`, and the front door's TLS (ACME). */
export type UpConfig = Pick<CutoverConfig, 'apps' | 'metrics' | 'proxy'>;

/**
 * The config as `cutover up` read and checked it (its `--set` overrides applied), kept in the data
 * dir (mode 0600: app env values are in it, as in the state database) for the controllers of the
 * daemon it starts. They take it from there instead of parsing the file again, so a controller
 * does not load the config's parser (zod, yaml: about 20 MB) to start, and every controller of
 * one `up` sees the same config, as the proxy workers do.
 */
export function upConfigFile(dataDir: string): string {
  return path.join(dataDir, 'up-config.json');
}

export function writeUpConfig(dataDir: string, config: CutoverConfig): void {
  const kept: UpConfig = { apps: config.apps, metrics: config.metrics, proxy: config.proxy };
  writePrivateJson(upConfigFile(dataDir), kept);
}

/** Undefined when there is none (a daemon started otherwise): the caller reads the config file itself. */
export function readUpConfig(dataDir: string): UpConfig | undefined {
  const config = readJson<UpConfig>(upConfigFile(dataDir));
  return config !== undefined && Array.isArray(config.apps) ? config : undefined;
}
