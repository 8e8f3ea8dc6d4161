/**
 * The resolved shape of `cutover.yaml` after validation and defaults: every duration in
 * milliseconds, every path absolute. This is what the rest of cutover works with; the raw
 * YAML shape lives in src/spec/.
 */
export interface HostPort {
  host: string;
  port: number;
}

export interface RunSpec {
  /** argv; with `shell: true`, a single string run by /bin/sh -c. */
  command: string[];
  shell: boolean;
  /** Absolute working directory. */
  cwd: string;
  env: Record<string, string>;
}

export interface HealthSpec {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  startupTimeoutMs: number;
}

/** A count (`2`) or a share of replicas (`"25%"`). */
export type CountOrPercent = number | `${number}%`;

export interface RollingSpec {
  maxSurge: CountOrPercent;
  maxUnavailable: CountOrPercent;
  minReadyMs: number;
  progressDeadlineMs: number;
}

export interface StrategySpec {
  rolling: RollingSpec;
}

export interface AppSpec {
  name: string;
  listen: HostPort;
  run: RunSpec;
  replicas: number;
  health: HealthSpec;
  drainTimeoutMs: number;
  stopTimeoutMs: number;
  strategy: StrategySpec;
}

/** The `proxy:` block: limits of the built-in proxy. Sizes in bytes; `0` means no limit where stated. */
export interface ProxySpec {
  maxHeaderBytes: number;
  maxRequestLineBytes: number;
  maxHeaderCount: number;
  /** `0`: no limit. */
  maxBodyBytes: number;
  headerTimeoutMs: number;
  /** `0`: not checked. */
  minBodyBytesPerSecond: number;
  /** Per app listener and proxy worker; `0`: no limit. */
  maxConnections: number;
  /** Addresses and CIDR blocks whose X-Forwarded-* headers are kept. */
  trustedProxies: string[];
}

export interface CutoverConfig {
  /** Absolute path of the file the config came from. */
  path: string;
  apps: AppSpec[];
  proxy: ProxySpec;
}
