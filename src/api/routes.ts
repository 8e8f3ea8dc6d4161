/** Admin API paths, shared by the server and its typed client. */
export const API_PREFIX = '/v1';

export const ERROR_STATUS: Record<string, number> = {
  ROLLOUT_ALREADY_ACTIVE: 409,
  REVISION_ALREADY_STABLE: 409,
  APP_NOT_FOUND: 404,
  ROLLOUT_NOT_FOUND: 404,
  REVISION_NOT_FOUND: 404,
  NO_EARLIER_REVISION: 409,
  BAD_REQUEST: 400,
  BODY_TOO_LARGE: 413,
  CONFIG_INVALID: 400,
  NOT_FOUND: 404,
  DAEMON_STOPPING: 503,
  NO_ACTIVE_ROLLOUT: 409,
  ROLLOUT_GOING_BACK: 409,
  NOTHING_TO_PROMOTE: 409,
  NOT_PAUSED: 409,
  TRAFFIC_PENDING: 503,
  STORAGE_UNAVAILABLE: 503,
  ADMIN_UNAUTHORIZED: 401,
  ADMIN_HOST_NOT_ALLOWED: 403,
  ADMIN_ORIGIN_NOT_ALLOWED: 403,
  REPORT_NOT_READY: 404,
  APP_DRIVEN_ELSEWHERE: 409,
  COMMAND_NOT_ANSWERED: 504,
  CLUSTER_STATE_UNREADABLE: 409,
};

export interface ApiErrorBody {
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
  { name: 'history', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/history$/, example: '/apps/web/history' },
  { name: 'report', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/report$/, example: '/apps/web/report' },
  { name: 'apps', method: 'GET', pattern: /^\/apps$/, example: '/apps' },
  { name: 'app', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)$/, example: '/apps/web' },
  { name: 'revisions', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/revisions$/, example: '/apps/web/revisions' },
  { name: 'rollouts', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/rollouts$/, example: '/apps/web/rollouts' },
  { name: 'instances', method: 'GET', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/instances$/, example: '/apps/web/instances' },
  { name: 'analysis', method: 'GET', pattern: /^\/rollouts\/(\d+)\/analysis$/, example: '/rollouts/1/analysis' },
  { name: 'live', method: 'GET', pattern: /^\/live$/, example: '/live' },
  { name: 'shutdown', method: 'POST', pattern: /^\/shutdown$/, example: '/shutdown' },
] as const;

export type ApiRouteName = (typeof API_ROUTES)[number]['name'];
