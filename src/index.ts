/**
 * cutover as a library: the typed admin API client and the config types.
 *
 * @example
 * import { CutoverClient } from 'cutover';
 * const client = new CutoverClient({ socketPath: '.cutover/cutover.sock' });
 * console.log((await client.status()).apps);
 */
export { CutoverClient, type HistoryReport } from './api/client.js';
export type { StatusReport, AppStatus, RolloutStatus, InstanceStatus } from './controller/status.js';
export type { DeployResult } from './controller/controller.js';
export * from './model/index.js';
export { CutoverError, InputError, DaemonUnreachableError, InternalError } from './errors.js';
export { loadConfig, parseConfig, ConfigError } from './spec/index.js';
