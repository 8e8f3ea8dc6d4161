/**
 * cutover as a library: the typed admin API client and the config types.
 *
 * @example
 * import { CutoverClient } from 'cutover';
 * const client = new CutoverClient({ socketPath: '.cutover/cutover.sock' });
 * console.log((await client.status()).apps);
 */
export {
  CutoverClient,
  type HistoryReport,
  type RolloutReport,
  type AppSummary,
  type StreamMessage,
  type EventWatch,
  type CutoverClientOptions,
} from './api/client.js';
export { API_ROUTES, API_PREFIX, type ApiErrorBody } from './api/routes.js';
export type { StatusReport, AppStatus, RolloutStatus, InstanceStatus } from './controller/status.js';
export type { LiveMetrics, RevisionRate } from './controller/live-metrics.js';
export type { DeployReport } from './controller/deploy-report.js';
export type { EventRecord, RolloutRecord, RevisionRecord, InstanceRecord, AnalysisRunRecord, AnalysisMeasurementRecord, TrafficShare } from './store/store.js';
export type { DeployResult } from './controller/controller.js';
export * from './model/index.js';
export { CutoverError, InputError, DaemonUnreachableError, InternalError } from './errors.js';
export { loadConfig, parseConfig, ConfigError } from './spec/index.js';
