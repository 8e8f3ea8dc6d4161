import { EXIT_BAD_INPUT, EXIT_DAEMON_UNREACHABLE, EXIT_ROLLOUT_FAILED, EXIT_STORE_CORRUPT, type ExitCode } from './exit-codes.js';

/**
 * Every error code cutover raises or answers with, each once, with the HTTP status the admin API
 * answers it with (`http`) and the exit code the CLI ends with when it reaches the CLI (`exit`).
 * The API (`api/server.ts`) and the CLI (`cli/main.ts`) read both from here and nowhere else, so
 * they cannot drift apart; `error-catalog.test.ts` pins every row.
 *
 * Rules:
 * - A code is a documented contract: never rename or remove one. A new code gets its row here
 *   first (the compiler rejects `new CutoverError('NO_SUCH_CODE', …)`) and in the test's table.
 * - `exit` is EXIT_BAD_INPUT (2) for a wrong or refused request (flags, config, a command that
 *   does not apply now); an `InputError` takes only such codes. EXIT_ROLLOUT_FAILED (1) is for
 *   everything else not listed as 3 or 4: a deploy refused because another rollout of the app
 *   runs (ROLLOUT_ALREADY_ACTIVE) exits 1 like a deploy that did not go through, so a CI job that
 *   lost the race fails as such.
 * - `http` is 500 for a code no route answers with on purpose (raised at start-up, in the proxy,
 *   or only on the CLI's side): 500 is what the API would answer if one ever reached it.
 * - A code this build does not know (from a daemon or cluster peer of another version) keeps its
 *   string; it is answered with FOREIGN_CODE_INFO.
 */
export const ERROR_CATALOG = {
  // Operator commands refused in the state the app is in.
  ROLLOUT_ALREADY_ACTIVE: { http: 409, exit: EXIT_ROLLOUT_FAILED },
  REVISION_ALREADY_STABLE: { http: 409, exit: EXIT_BAD_INPUT },
  NO_EARLIER_REVISION: { http: 409, exit: EXIT_BAD_INPUT },
  NO_ACTIVE_ROLLOUT: { http: 409, exit: EXIT_BAD_INPUT },
  ROLLOUT_GOING_BACK: { http: 409, exit: EXIT_BAD_INPUT },
  NOTHING_TO_PROMOTE: { http: 409, exit: EXIT_BAD_INPUT },
  NOT_PAUSED: { http: 409, exit: EXIT_BAD_INPUT },
  TRAFFIC_PENDING: { http: 503, exit: EXIT_ROLLOUT_FAILED },
  SCALE_NOT_REACHED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  REMOVE_NOT_FINISHED: { http: 500, exit: EXIT_ROLLOUT_FAILED },

  // Something asked for does not exist (yet).
  APP_NOT_FOUND: { http: 404, exit: EXIT_BAD_INPUT },
  ROLLOUT_NOT_FOUND: { http: 404, exit: EXIT_BAD_INPUT },
  REVISION_NOT_FOUND: { http: 404, exit: EXIT_BAD_INPUT },
  NOT_FOUND: { http: 404, exit: EXIT_BAD_INPUT },
  REPORT_NOT_READY: { http: 404, exit: EXIT_ROLLOUT_FAILED },

  // Requests and answers of the admin API and the dashboard.
  BAD_REQUEST: { http: 400, exit: EXIT_BAD_INPUT },
  METHOD_NOT_ALLOWED: { http: 405, exit: EXIT_ROLLOUT_FAILED },
  ADMIN_UNAUTHORIZED: { http: 401, exit: EXIT_ROLLOUT_FAILED },
  ADMIN_HOST_NOT_ALLOWED: { http: 403, exit: EXIT_ROLLOUT_FAILED },
  ADMIN_ORIGIN_NOT_ALLOWED: { http: 403, exit: EXIT_ROLLOUT_FAILED },
  ADMIN_LISTEN_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  ADMIN_TOKEN_EXPOSED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  ADMIN_TOKEN_INVALID: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  UI_LISTEN_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  UI_NOT_LOOPBACK: { http: 500, exit: EXIT_BAD_INPUT },
  DASHBOARD_NOT_BUILT: { http: 503, exit: EXIT_ROLLOUT_FAILED },
  BAD_RESPONSE: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  EVENT_STREAM_REFUSED: { http: 500, exit: EXIT_ROLLOUT_FAILED },

  // Input on the CLI's side: flags, arguments, environment, the config file.
  BAD_FLAG: { http: 500, exit: EXIT_BAD_INPUT },
  BAD_ARGUMENT: { http: 500, exit: EXIT_BAD_INPUT },
  BAD_ENV: { http: 500, exit: EXIT_BAD_INPUT },
  APP_NOT_IN_CONFIG: { http: 500, exit: EXIT_BAD_INPUT },
  CONFIRMATION_REQUIRED: { http: 500, exit: EXIT_BAD_INPUT },
  CONFIG_INVALID: { http: 400, exit: EXIT_BAD_INPUT },
  COMMAND_INVALID: { http: 500, exit: EXIT_BAD_INPUT },
  DURATION_INVALID: { http: 500, exit: EXIT_BAD_INPUT },
  LISTEN_INVALID: { http: 500, exit: EXIT_BAD_INPUT },
  SIZE_INVALID: { http: 500, exit: EXIT_BAD_INPUT },
  /** `--host` / CUTOVER_HOST is not a valid ssh://USER@HOST[:PORT][/DIR]. */
  HOST_INVALID: { http: 500, exit: EXIT_BAD_INPUT },
  /** A file or directory could not be sent to the remote side over SSH. */
  UPLOAD_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  BAD_RELEASE_SOURCE: { http: 400, exit: EXIT_BAD_INPUT },
  RELEASE_SNAPSHOT_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },

  // The daemon itself.
  DAEMON_UNREACHABLE: { http: 500, exit: EXIT_DAEMON_UNREACHABLE },
  DAEMON_STOPPING: { http: 503, exit: EXIT_DAEMON_UNREACHABLE },
  DAEMON_ALREADY_RUNNING: { http: 500, exit: EXIT_BAD_INPUT },
  DAEMON_LOCK_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  DAEMON_START_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  DAEMON_STOP_TIMEOUT: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  BAD_CRASH_SWITCH: { http: 500, exit: EXIT_ROLLOUT_FAILED },

  // The state database.
  STORE_CORRUPT: { http: 500, exit: EXIT_STORE_CORRUPT },
  STORE_TOO_NEW: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  STORAGE_UNAVAILABLE: { http: 503, exit: EXIT_ROLLOUT_FAILED },
  CERT_STATE_UNREADABLE: { http: 500, exit: EXIT_ROLLOUT_FAILED },

  // Kubernetes: the cluster, and apps another cutover drives.
  APP_DRIVEN_ELSEWHERE: { http: 409, exit: EXIT_ROLLOUT_FAILED },
  COMMAND_NOT_ANSWERED: { http: 504, exit: EXIT_ROLLOUT_FAILED },
  CLUSTER_STATE_UNREADABLE: { http: 409, exit: EXIT_ROLLOUT_FAILED },
  KUBECONFIG_INVALID: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  KUBERNETES_API_ERROR: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  POD_TEMPLATE_UNREADABLE: { http: 500, exit: EXIT_BAD_INPUT },
  // Containers: the engine, and the image of a new revision (the engine's own words in the message).
  CONTAINER_ENGINE_UNAVAILABLE: { http: 503, exit: EXIT_ROLLOUT_FAILED },
  IMAGE_UNAVAILABLE: { http: 422, exit: EXIT_ROLLOUT_FAILED },
  RUNTIME_NOT_SUPPORTED: { http: 500, exit: EXIT_BAD_INPUT },
  ROUTER_NOT_SUPPORTED: { http: 500, exit: EXIT_BAD_INPUT },
  DATA_DIR_UNSAFE: { http: 500, exit: EXIT_BAD_INPUT },
  ADDRESS_IN_USE: { http: 500, exit: EXIT_BAD_INPUT },
  ADMIN_TOKEN_NOT_OWNED: { http: 500, exit: EXIT_BAD_INPUT },
  BODY_TOO_LARGE: { http: 413, exit: EXIT_BAD_INPUT },
  REHEARSAL_NOT_STARTED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  REHEARSAL_NO_TRAFFIC: { http: 500, exit: EXIT_ROLLOUT_FAILED },

  // The built-in proxy.
  PROXY_BODY_TOO_LARGE: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  PROXY_CLIENT_CLOSED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  PROXY_CLOSED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  PROXY_INVALID_OPTION: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  PROXY_INVALID_PLAN: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  PROXY_LISTEN_CONFLICT: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  PROXY_LISTEN_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  PROXY_REQUEST_REFUSED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  PROXY_STREAM_ENDED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  PROXY_UPSTREAM_MALFORMED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  // Named as Node and undici name them, so the proxy's retry rules treat ours and theirs alike.
  ECONNRESET: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  UND_ERR_CONNECT_TIMEOUT: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  UND_ERR_HEADERS_TIMEOUT: { http: 500, exit: EXIT_ROLLOUT_FAILED },

  // HAProxy as the traffic router.
  ROUTER_CLOSED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_BACKEND_MISSING: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_COMMAND_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_CONFIG_INVALID: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_MAP_MISSING: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_NOT_INSTALLED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_NO_FREE_SERVER: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_NO_REVISION_BACKEND: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_RELOAD_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_SOCKET_MISSING: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_START_FAILED: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_TIMEOUT: { http: 500, exit: EXIT_ROLLOUT_FAILED },
  HAPROXY_UNREACHABLE: { http: 500, exit: EXIT_ROLLOUT_FAILED },

  // A bug in cutover: the CLI asks for a report.
  INTERNAL: { http: 500, exit: EXIT_ROLLOUT_FAILED },
} as const satisfies Record<string, ErrorCodeInfo>;

/** What a code answers with: its HTTP status over the admin API and the CLI's exit code. */
export interface ErrorCodeInfo {
  readonly http: number;
  readonly exit: ExitCode;
}

/** A code of the catalog. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The codes a wrong or refused request raises: the only ones an `InputError` takes. */
export type InputErrorCode = { [C in ErrorCode]: (typeof ERROR_CATALOG)[C]['exit'] extends typeof EXIT_BAD_INPUT ? C : never }[ErrorCode];

/**
 * A code this build does not know, received as a string from a daemon or a cluster peer of
 * another version. It stays the string it arrived as; only {@link receivedErrorCode} makes one.
 */
export type ForeignErrorCode = string & { readonly __foreignErrorCode: never };

/** What a foreign code answers with: what the API and the CLI answered an unlisted code with before the catalog. */
export const FOREIGN_CODE_INFO: ErrorCodeInfo = { http: 500, exit: EXIT_ROLLOUT_FAILED };

/** Whether `value` is a code of the catalog (an own key: `toString` is not a code). */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, value);
}

/**
 * A code received as a plain string (an API answer, a forwarded command's answer), typed for a
 * CutoverError; the string itself is kept, known or not.
 *
 * @example
 * throw new CutoverError(receivedErrorCode(body.code), body.message);
 */
export function receivedErrorCode(value: string): ErrorCode | ForeignErrorCode {
  return isErrorCode(value) ? value : (value as ForeignErrorCode);
}

/** The HTTP status and exit code of a code, FOREIGN_CODE_INFO for one this build does not know. */
export function errorCodeInfo(code: ErrorCode | ForeignErrorCode): ErrorCodeInfo {
  return isErrorCode(code) ? ERROR_CATALOG[code] : FOREIGN_CODE_INFO;
}
