import {
  DEFAULT_CLIENT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_REQUEST_LINE_BYTES,
  DEFAULT_MIN_BODY_BYTES_PER_SECOND,
} from '../proxy/proxy-options.js';

/**
 * Defaults and limits of `cutover.yaml`. The loader, the CLI and the docs (docs/configuration.md) all read these
 * constants, so a default is changed in one place. Durations are in milliseconds.
 */

/** The file `cutover` reads when no `--config` is given. */
export const DEFAULT_CONFIG_FILE = 'cutover.yaml';

/** Host used when `listen` gives only a port. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

export const DEFAULT_REPLICAS = 1;
export const MIN_REPLICAS = 1;
export const MAX_REPLICAS = 1000;

/** `run.shell`: by default the command runs without a shell. */
export const DEFAULT_SHELL = false;

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** Upper bound of `drainTimeout` and `stopTimeout`. */
export const MAX_STOP_TIMEOUT_MS = 3_600_000;
export const MAX_DRAIN_TIMEOUT_MS = 3_600_000;
/** Failed tries in a row (5xx or no connection) after which the proxy ejects an instance; 0 turns ejection off. */
export const DEFAULT_OUTLIER_CONSECUTIVE_FAILURES = 5;
export const MAX_OUTLIER_CONSECUTIVE_FAILURES = 1_000;
/** What happens to WebSockets and event streams of a leaving instance: wait for them (up to the timeout) or close them at once. */
export const LONG_LIVED_DRAIN_MODES = ['wait', 'close'] as const;
export const DEFAULT_LONG_LIVED_DRAIN = 'wait';
/** How long an ejected instance stays out of the pool. */
export const DEFAULT_OUTLIER_EJECT_FOR_MS = 30_000;

export const DEFAULT_HEALTH_PATH = '/';
export const DEFAULT_HEALTH_INTERVAL_MS = 1_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 1_000;
export const DEFAULT_HEALTHY_THRESHOLD = 1;
export const DEFAULT_UNHEALTHY_THRESHOLD = 3;
export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
export const MIN_THRESHOLD = 1;
export const MAX_THRESHOLD = 100;

export const DEFAULT_MAX_SURGE = 1;
export const DEFAULT_MAX_UNAVAILABLE = 0;
export const DEFAULT_MIN_READY_MS = 0;
export const DEFAULT_PROGRESS_DEADLINE_MS = 600_000;

/** No duration anywhere in the config may be longer than this (24h). */
export const MAX_DURATION_MS = 86_400_000;

/** Config files larger than this (1 MiB) are refused before parsing. */
export const MAX_CONFIG_BYTES = 1_048_576;

/** How many nodes YAML aliases may expand to, against "billion laughs" files. */
export const MAX_ALIAS_COUNT = 100;

/**
 * The `proxy:` block: limits of the built-in proxy, shared by every app. The data plane owns
 * the defaults (src/proxy/proxy-options.ts); they are re-exported here for the spec and docs.
 */
export {
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_REQUEST_LINE_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MIN_BODY_BYTES_PER_SECOND,
  DEFAULT_MAX_CONNECTIONS,
};
/** `proxy.headerTimeout`: time a client has to send its whole request head. */
export const DEFAULT_HEADER_TIMEOUT_MS = DEFAULT_CLIENT_HEADERS_TIMEOUT_MS;
/** Upper bound of `proxy.headerTimeout`. */
export const MAX_HEADER_TIMEOUT_MS = 60_000;
export const MAX_HEADER_COUNT = 10_000;
export const MAX_CONNECTIONS = 1_000_000;
/** Blue-green: the header that reaches green before the switch when `preview` is not set. */
export const DEFAULT_PREVIEW_HEADER = { name: 'x-cutover-preview', value: '1' } as const;
export const DEFAULT_SCALE_DOWN_DELAY_MS = 30_000;
export const DEFAULT_ABORT_SCALE_DOWN_DELAY_MS = 30_000;

/** Canary: a deploy that names no steps sends 20% to the canary and waits for `cutover promote`. */
export const DEFAULT_CANARY_STEPS = [{ setWeight: 20 }, { pause: null }] as const;
export const DEFAULT_CANARY_REPLICAS = 'auto';
export const DEFAULT_STICKY_TTL_MS = 3_600_000;
export const DEFAULT_MIRROR_PERCENT = 0;
export const MAX_CANARY_STEPS = 100;

/** Hooks: how long one hook may run before its process group is killed (or its call cancelled). */
export const DEFAULT_HOOK_TIMEOUT_MS = 60_000;
/** A release build step fails after this long unless it says otherwise. */
export const DEFAULT_BUILD_TIMEOUT_MS = 10 * 60_000;
/** Releases kept besides those in use. */
export const DEFAULT_RELEASES_KEPT = 5;
export const MAX_RELEASES_KEPT = 1000;
/** The HTTP method of an `http` hook that names none. */
export const DEFAULT_HOOK_HTTP_METHOD = 'POST';
/** At most this many hooks per point. */
export const MAX_HOOKS_PER_POINT = 20;

/** The load balancer when the config names none. */
export const DEFAULT_ROUTER = 'builtin';
export const DEFAULT_HAPROXY_MODE = 'managed';
export const DEFAULT_HAPROXY_BINARY = 'haproxy';
/** Server slots per HAProxy backend in managed mode. */
export const DEFAULT_HAPROXY_SERVERS = 16;
export const MAX_HAPROXY_SERVERS = 1000;

/** Analysis: time between measurements (and the window of a builtin one). */
export const DEFAULT_ANALYSIS_INTERVAL_MS = 10_000;
/** Analysis: provider errors in a row tolerated before a run is inconclusive. */
export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;
/** Analysis: fewer canary requests than this in a builtin window make a measurement inconclusive. */
export const DEFAULT_MIN_REQUESTS = 50;
/** Analysis: failed measurements tolerated by default. */
export const DEFAULT_FAILURE_LIMIT = 0;
/** Where `/metrics` is served when the config says nothing. */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9464';

/** Container runtime: the engine and network when the config names none. */
export const DEFAULT_CONTAINER_ENGINE = 'auto';
export const DEFAULT_CONTAINER_NETWORK = 'host';
/** `proxy.tls.acme.directory` when not written: Let's Encrypt. */
export const DEFAULT_ACME_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
/** `proxy.tls.redirectHttp`: plain requests for a host served over TLS get 308 to https. */
export const DEFAULT_REDIRECT_HTTP = true;
/** `proxy.tls.hsts: true`: one year. */
export const DEFAULT_HSTS_MAX_AGE_MS = 31_536_000_000;
