import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CATALOG, errorCodeInfo, FOREIGN_CODE_INFO, isErrorCode, receivedErrorCode } from './error-catalog.js';
import { CutoverError, DaemonUnreachableError, InputError, InternalError } from './errors.js';
import { ConfigError } from './config/config-error.js';

/**
 * Every code with [HTTP status, exit code], as the API and the CLI answered them before the
 * catalog. A change here changes a documented contract: scripts and CI jobs rely on both.
 */
const EXPECTED: Record<string, readonly [number, number]> = {
  ADMIN_HOST_NOT_ALLOWED: [403, 1],
  ADMIN_LISTEN_FAILED: [500, 1],
  ADMIN_ORIGIN_NOT_ALLOWED: [403, 1],
  ADMIN_TOKEN_EXPOSED: [500, 1],
  ADMIN_TOKEN_INVALID: [500, 1],
  ADMIN_UNAUTHORIZED: [401, 1],
  APP_DRIVEN_ELSEWHERE: [409, 1],
  APP_NOT_FOUND: [404, 2],
  APP_NOT_IN_CONFIG: [500, 2],
  BAD_ARGUMENT: [500, 2],
  BAD_CRASH_SWITCH: [500, 1],
  BAD_ENV: [500, 2],
  BAD_FLAG: [500, 2],
  BAD_REQUEST: [400, 2],
  BAD_RESPONSE: [500, 1],
  CLUSTER_STATE_UNREADABLE: [409, 1],
  COMMAND_INVALID: [500, 2],
  COMMAND_NOT_ANSWERED: [504, 1],
  CONFIG_INVALID: [400, 2],
  DAEMON_ALREADY_RUNNING: [500, 2],
  DAEMON_LOCK_FAILED: [500, 1],
  DAEMON_START_FAILED: [500, 1],
  DAEMON_STOPPING: [503, 3],
  DAEMON_STOP_TIMEOUT: [500, 1],
  DAEMON_UNREACHABLE: [500, 3],
  DASHBOARD_NOT_BUILT: [503, 1],
  DURATION_INVALID: [500, 2],
  ECONNRESET: [500, 1],
  EVENT_STREAM_REFUSED: [500, 1],
  HAPROXY_BACKEND_MISSING: [500, 1],
  HAPROXY_COMMAND_FAILED: [500, 1],
  HAPROXY_CONFIG_INVALID: [500, 1],
  HAPROXY_MAP_MISSING: [500, 1],
  HAPROXY_NOT_INSTALLED: [500, 1],
  HAPROXY_NO_FREE_SERVER: [500, 1],
  HAPROXY_NO_REVISION_BACKEND: [500, 1],
  HAPROXY_RELOAD_FAILED: [500, 1],
  HAPROXY_SOCKET_MISSING: [500, 1],
  HAPROXY_START_FAILED: [500, 1],
  HAPROXY_TIMEOUT: [500, 1],
  HAPROXY_UNREACHABLE: [500, 1],
  INTERNAL: [500, 1],
  KUBECONFIG_INVALID: [500, 1],
  KUBERNETES_API_ERROR: [500, 1],
  CONTAINER_ENGINE_UNAVAILABLE: [503, 1],
  IMAGE_UNAVAILABLE: [422, 1],
  LISTEN_INVALID: [500, 2],
  METHOD_NOT_ALLOWED: [405, 1],
  NOTHING_TO_PROMOTE: [409, 2],
  NOT_FOUND: [404, 2],
  NOT_PAUSED: [409, 2],
  NO_ACTIVE_ROLLOUT: [409, 2],
  NO_EARLIER_REVISION: [409, 2],
  POD_TEMPLATE_UNREADABLE: [500, 2],
  PROXY_BODY_TOO_LARGE: [500, 1],
  PROXY_CLIENT_CLOSED: [500, 1],
  PROXY_CLOSED: [500, 1],
  PROXY_INVALID_OPTION: [500, 1],
  PROXY_INVALID_PLAN: [500, 1],
  PROXY_LISTEN_CONFLICT: [500, 1],
  PROXY_LISTEN_FAILED: [500, 1],
  PROXY_REQUEST_REFUSED: [500, 1],
  PROXY_STREAM_ENDED: [500, 1],
  PROXY_UPSTREAM_MALFORMED: [500, 1],
  REPORT_NOT_READY: [404, 1],
  REVISION_ALREADY_STABLE: [409, 2],
  REVISION_NOT_FOUND: [404, 2],
  ROLLOUT_ALREADY_ACTIVE: [409, 1],
  ROLLOUT_GOING_BACK: [409, 2],
  ROLLOUT_NOT_FOUND: [404, 2],
  ROUTER_CLOSED: [500, 1],
  SCALE_NOT_REACHED: [500, 1],
  REMOVE_NOT_FINISHED: [500, 1],
  CONFIRMATION_REQUIRED: [500, 2],
  RUNTIME_NOT_SUPPORTED: [500, 2],
  ROUTER_NOT_SUPPORTED: [500, 2],
  DATA_DIR_UNSAFE: [500, 2],
  ADDRESS_IN_USE: [500, 2],
  ADMIN_TOKEN_NOT_OWNED: [500, 2],
  BODY_TOO_LARGE: [413, 2],
  REHEARSAL_NOT_STARTED: [500, 1],
  REHEARSAL_NO_TRAFFIC: [500, 1],
  SIZE_INVALID: [500, 2],
  HOST_INVALID: [500, 2],
  UPLOAD_FAILED: [500, 1],
  BAD_RELEASE_SOURCE: [400, 2],
  RELEASE_SNAPSHOT_FAILED: [500, 1],
  STORAGE_UNAVAILABLE: [503, 1],
  CERT_STATE_UNREADABLE: [500, 1],
  STORE_CORRUPT: [500, 4],
  STORE_TOO_NEW: [500, 1],
  TRAFFIC_PENDING: [503, 1],
  UI_LISTEN_FAILED: [500, 1],
  UI_NOT_LOOPBACK: [500, 2],
  UND_ERR_CONNECT_TIMEOUT: [500, 1],
  UND_ERR_HEADERS_TIMEOUT: [500, 1],
};

describe('error catalog', () => {
  it('holds every code once with the HTTP status and exit code it has always had', () => {
    const actual = Object.fromEntries(Object.entries(ERROR_CATALOG).map(([code, info]) => [code, [info.http, info.exit]]));
    assert.deepEqual(actual, EXPECTED);
  });

  it('gives every code a real HTTP error status and one of the documented exit codes', () => {
    for (const [code, { http, exit }] of Object.entries(ERROR_CATALOG)) {
      assert.ok(http >= 400 && http <= 599, `${code}: ${http}`);
      assert.ok([1, 2, 3, 4].includes(exit), `${code}: ${exit}`);
      assert.match(code, /^[A-Z][A-Z_]*$/);
    }
  });

  it('tells catalog codes from other strings, prototype keys and other cases included', () => {
    assert.equal(isErrorCode('NOT_PAUSED'), true);
    for (const value of ['OK', 'not_paused', '', 'toString', '__proto__', 'constructor', 'A_CODE_FROM_A_NEWER_CUTOVER']) {
      assert.equal(isErrorCode(value), false, value);
    }
  });

  it('keeps a code received as a plain string, and answers an unknown one with 500 and exit 1', () => {
    const known = new CutoverError(receivedErrorCode('NOT_PAUSED'), 'rollout 3 is not paused');
    assert.equal(known.code, 'NOT_PAUSED');
    assert.deepEqual(errorCodeInfo(known.code), { http: 409, exit: 2 });

    const foreign = new CutoverError(receivedErrorCode('A_CODE_FROM_A_NEWER_CUTOVER'), 'refused', { hint: 'upgrade' });
    assert.equal(foreign.code, 'A_CODE_FROM_A_NEWER_CUTOVER');
    assert.equal(foreign.hint, 'upgrade');
    assert.deepEqual(errorCodeInfo(foreign.code), { http: 500, exit: 1 });
    assert.equal(errorCodeInfo(receivedErrorCode('toString')), FOREIGN_CODE_INFO);
  });

  it('gives the special error classes codes of the catalog with the exit codes they promise', () => {
    assert.equal(errorCodeInfo(new DaemonUnreachableError('no socket').code).exit, 3);
    assert.equal(errorCodeInfo(new InternalError('a bug').code).exit, 1);
    assert.equal(errorCodeInfo(new ConfigError([]).code).exit, 2);
    assert.equal(errorCodeInfo(new InputError('BAD_FLAG', '--workers must be ≥ 1').code).exit, 2);
  });

  it('lets the compiler refuse a code outside the catalog, and an InputError whose code does not exit 2', () => {
    // Each line would compile if the check were gone; @ts-expect-error then fails the build.
    // @ts-expect-error NO_SUCH_CODE is not in the catalog
    const unknown = new CutoverError('NO_SUCH_CODE', 'typo');
    // @ts-expect-error ROLLOUT_ALREADY_ACTIVE exits 1: it is not bad input
    const notInput = new InputError('ROLLOUT_ALREADY_ACTIVE', 'another rollout runs');
    assert.equal(isErrorCode(unknown.code), false);
    assert.equal(errorCodeInfo(notInput.code).exit, 1);
  });
});
