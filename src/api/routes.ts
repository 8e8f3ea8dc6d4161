/** Admin API paths, shared by the server and its typed client. */
export const API_PREFIX = '/v1';

/** An error answer; the HTTP status comes with the code from `error-catalog.ts`. */
export interface ApiErrorBody {
  /** A code of the error catalog; from a daemon of another version, maybe one this build does not know. */
  code: string;
  message: string;
  hint?: string;
}

/** Every route of the admin API: the server binds a handler to each name; tests enumerate them. */
export const API_ROUTES = [
  { name: 'health', method: 'GET', pattern: /^\/health$/, example: '/health' },
  { name: 'status', method: 'GET', pattern: /^\/status$/, example: '/status' },
  { name: 'deploy', method: 'POST', pattern: /^\/deploy$/, example: '/deploy' },
  { name: 'promote', method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/promote$/, example: '/apps/web/promote' },
  { name: 'pause', method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/pause$/, example: '/apps/web/pause' },
  { name: 'resume', method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/resume$/, example: '/apps/web/resume' },
  { name: 'abort', method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/abort$/, example: '/apps/web/abort' },
  { name: 'rollout', method: 'GET', pattern: /^\/rollouts\/(\d+)$/, example: '/rollouts/1' },
  { name: 'events', method: 'GET', pattern: /^\/events$/, example: '/events' },
  { name: 'rollback', method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/rollback$/, example: '/apps/web/rollback' },
  { name: 'scale', method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/scale$/, example: '/apps/web/scale' },
  { name: 'remove', method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/remove$/, example: '/apps/web/remove' },
  { name: 'history', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/history$/, example: '/apps/web/history' },
  { name: 'report', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/report$/, example: '/apps/web/report' },
  { name: 'apps', method: 'GET', pattern: /^\/apps$/, example: '/apps' },
  { name: 'app', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)$/, example: '/apps/web' },
  { name: 'revisions', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/revisions$/, example: '/apps/web/revisions' },
  { name: 'releases', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/releases$/, example: '/apps/web/releases' },
  { name: 'rollouts', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/rollouts$/, example: '/apps/web/rollouts' },
  { name: 'instances', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/instances$/, example: '/apps/web/instances' },
  { name: 'analysis', method: 'GET', pattern: /^\/rollouts\/(\d+)\/analysis$/, example: '/rollouts/1/analysis' },
  { name: 'live', method: 'GET', pattern: /^\/live$/, example: '/live' },
  { name: 'shutdown', method: 'POST', pattern: /^\/shutdown$/, example: '/shutdown' },
] as const;

export type ApiRouteName = (typeof API_ROUTES)[number]['name'];
