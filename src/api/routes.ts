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
  CONFIG_INVALID: 400,
  NOT_FOUND: 404,
  DAEMON_STOPPING: 503,
  NO_ACTIVE_ROLLOUT: 409,
  ROLLOUT_GOING_BACK: 409,
  NOTHING_TO_PROMOTE: 409,
  NOT_PAUSED: 409,
  TRAFFIC_PENDING: 503,
  STORAGE_UNAVAILABLE: 503,
};

export interface ApiErrorBody {
  code: string;
  message: string;
  hint?: string;
}
