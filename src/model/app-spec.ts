/**
 * The resolved shape of `cutover.yaml` after validation and defaults: every duration in
 * milliseconds, every path absolute. This is what the rest of cutover works with; the raw
 * YAML shape lives in src/config/.
 */
import type { StrategyName } from './rollout.js';

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
  /**
   * Names in `env` whose values are secret (from `run.secrets` and `run.envFile`), sorted:
   * shown as `***` everywhere. Absent when none, so older spec hashes stay.
   */
  secrets?: string[];
  /** Names of the daemon's environment instances get beyond the clean set; absent when none. */
  inheritEnv?: string[];
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
  /** Analysis once the new revision serves all traffic; older stored specs lack it. */
  analysis?: AnalysisUse | null;
}

export const ANALYSIS_PROVIDER_NAMES = ['builtin', 'prometheus', 'command', 'http'] as const;
export type AnalysisProviderName = (typeof ANALYSIS_PROVIDER_NAMES)[number];
export const BUILTIN_METRIC_NAMES = ['successRate', 'errorRate', 'latencyP50', 'latencyP95', 'latencyP99', 'requestRate'] as const;
export type BuiltinMetric = (typeof BUILTIN_METRIC_NAMES)[number];

/** One analysis template of an app: where a value comes from and how it is judged. */
export interface AnalysisTemplateSpec {
  name: string;
  provider: AnalysisProviderName;
  /** builtin only. */
  metric: BuiltinMetric | null;
  /** prometheus only. */
  address: string | null;
  query: string | null;
  /** command only (argv). */
  command: string[] | null;
  /** http only. */
  url: string | null;
  jsonPath: string | null;
  successCondition: string | null;
  failureCondition: string | null;
  intervalMs: number;
  /** Null: once (a step), or until the rollout ends (canary background analysis). */
  count: number | null;
  failureLimit: number;
  consecutiveErrorLimit: number;
  inconclusiveLimit: number;
  minRequests: number;
  baseline: { maxRatio: number } | null;
}

/** Which templates a step or strategy block runs, together. */
export interface AnalysisUse {
  templates: string[];
}

/** Where green answers before it gets real traffic: a header on the app's address, and/or a listener of its own. */
export interface PreviewSpec {
  header: { name: string; value: string } | null;
  listen: HostPort | null;
}

export interface BlueGreenSpec {
  preview: PreviewSpec;
  /** Promote by itself once green has been ready this long; null: wait for `cutover promote`. */
  autoPromoteMs: number | null;
  /** Blue stays up, out of traffic, this long after the switch (a rollback inside it starts nothing). */
  scaleDownDelayMs: number;
  /** Green stays up this long after an abort. */
  abortScaleDownDelayMs: number;
  /** Green's size before the switch; it grows to `replicas` before taking traffic. */
  previewReplicas: number | null;
  progressDeadlineMs: number;
  /** Before the switch, on preview traffic; older stored specs lack it. */
  prePromotionAnalysis?: AnalysisUse | null;
  /** After the switch, while blue is still up. */
  postPromotionAnalysis?: AnalysisUse | null;
}

export type CanaryStep =
  | { setWeight: number }
  /** A duration in ms, or null for a manual gate (`pause: {}`): wait for `cutover promote`. */
  | { pause: number | null }
  /** Canary size without changing the weight; 'auto' returns to `canaryReplicas`. */
  | { setCanaryScale: CountOrPercent | 'auto' }
  /** Run analysis templates at the weight in force; done once they pass. */
  | { analysis: AnalysisUse };

export type RouteMatchSpec = { header: { name: string; value: string } } | { cookie: { name: string; value: string } };

export interface CanarySpec {
  steps: CanaryStep[];
  /** 'auto': ceil(replicas × weight), at least 1; or a fixed count. */
  canaryReplicas: 'auto' | number;
  sticky: { cookie: string; ttlMs: number } | null;
  routes: RouteMatchSpec[];
  mirror: { percent: number };
  /** Green stays up this long after an abort. */
  abortScaleDownDelayMs: number;
  progressDeadlineMs: number;
  /** Background analysis from `startingStep` to the end; older stored specs lack it. */
  analysis?: (AnalysisUse & { startingStep: number }) | null;
}

export interface StrategySpec {
  /** The strategy a deploy uses unless `--strategy` says otherwise; older stored specs lack it (rolling). */
  use?: StrategyName;
  rolling: RollingSpec;
  /** Present in every resolved spec (defaults when the config has no block); older stored specs lack it. */
  blueGreen?: BlueGreenSpec;
  canary?: CanarySpec;
}

/** The points of a rollout where user hooks run, in the order a rollout meets them. */
export const HOOK_POINTS = ['preDeploy', 'preTraffic', 'postTraffic', 'onSuccess', 'onFailure'] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];

/** What a hook does: run a command (argv, or one string with `shell`), or make an HTTP call. */
export type HookAction =
  | { kind: 'command'; command: string[]; shell: boolean; /** Absolute working directory. */ cwd: string }
  | {
      kind: 'http';
      url: string;
      method: string;
      headers: Record<string, string>;
      /** Null: a JSON summary of the rollout (GET and HEAD send none). */ body: string | null;
    };

export interface HookSpec {
  action: HookAction;
  /** Past this, a command's process group is killed (an HTTP call is cancelled) and the hook fails. */
  timeoutMs: number;
  /** Safe to run again when a controller crash interrupted it; otherwise the rollout pauses. */
  isIdempotent: boolean;
}

/** The hooks of each point, run in order; the first failure ends the point. */
export type HooksSpec = Record<HookPoint, HookSpec[]>;

/** The load balancer of an app. */
export type RouterSpec =
  | { kind: 'builtin' }
  | {
      kind: 'haproxy';
      mode: 'managed' | 'external';
      /** External mode: the runtime API socket (absolute); null in managed mode. */
      socket: string | null;
      backend: string;
      servers: number;
      binary: string;
    }
  | {
      kind: 'kubernetes';
      /** The Service whose selector blue-green switches. */
      service: string;
      /** The Gateway API HTTPRoute canary weights go to; null: weights approximated by replica ratio. */
      httpRoute: string | null;
    };

/** Where an app's instances run. */
export type RuntimeSpec =
  | { kind: 'local' }
  | {
      kind: 'kubernetes';
      /** Null: the kubeconfig's current context. */
      context: string | null;
      /** Null: the context's namespace, else `default`. */
      namespace: string | null;
      image: string;
      port: number;
      /** Absolute path of a pod template YAML file; null: cutover builds one. */
      podTemplate: string | null;
    }
  | ContainerRuntimeSpec;

export const CONTAINER_ENGINES = ['auto', 'docker', 'podman'] as const;
export type ContainerEngineChoice = (typeof CONTAINER_ENGINES)[number];
export type ContainerEngine = Exclude<ContainerEngineChoice, 'auto'>;
export const CONTAINER_NETWORKS = ['host', 'bridge'] as const;
export type ContainerNetwork = (typeof CONTAINER_NETWORKS)[number];

/** Containers on this machine, run by Docker or Podman (`runtime.container`). */
export interface ContainerRuntimeSpec {
  kind: 'container';
  engine: ContainerEngineChoice;
  /** The image reference as written (a tag, or a reference by digest). */
  image: string;
  /**
   * The image ID it resolved to when the revision was made (`sha256:…`), and on which engine:
   * a revision runs this ID whatever the tag points at later. Null in a config not yet deployed.
   */
  resolved: { engine: ContainerEngine; imageId: string } | null;
  /** The port the app listens on inside; null: `$PORT` (host networking only). */
  port: number | null;
  network: ContainerNetwork;
  /** `host:container[:options]`; a host path is absolute, a volume name is kept as is. */
  volumes: string[];
  /** Extra engine arguments, placed before the image. */
  args: string[];
}

/**
 * The `listen` of an app that has no address of its own, only `hosts` on the shared listeners
 * (the front door). The proxy opens no listener of the app's own for it.
 */
export const FRONT_DOOR_ONLY_LISTEN: HostPort = Object.freeze({ host: '', port: 0 });

/** True unless `listen` is {@link FRONT_DOOR_ONLY_LISTEN}. */
export function hasOwnListener(listen: HostPort): boolean {
  return listen.host !== '';
}

/** Where an app's certificate comes from on the shared HTTPS listener. Paths are absolute. */
export type TlsSource = 'acme' | { cert: string; key: string } | false;

/** An app on the shared listeners: which hosts and path prefixes are its own, and its certificate. */
export interface FrontDoorSpec {
  /** Lower-case names; `*.example.com` matches one more label. */
  hosts: string[];
  /** Path prefixes, each starting with `/`; `['/']` when not written. */
  paths: string[];
  tls: TlsSource;
}

/** One build command of a release: argv, run in the release directory. */
export interface ReleaseBuildStep {
  command: string[];
  timeoutMs: number;
}

/** The `release:` block: the files a revision runs, snapshotted into the data dir (see docs/releases.md). */
export interface ReleaseSpec {
  /** Absolute path of the source directory (resolved from the config file's directory). */
  from: string;
  exclude: string[];
  build: ReleaseBuildStep[];
  /** Release-relative paths kept across releases in DATA_DIR/shared/APP/. */
  shared: string[];
  /** Releases kept besides those in use. */
  keep: number;
}

export interface AppSpec {
  name: string;
  /** {@link FRONT_DOOR_ONLY_LISTEN} when the app has only `hosts`. */
  listen: HostPort;
  /** Absent when the app has no `hosts` (older spec hashes stay). */
  frontDoor?: FrontDoorSpec;
  run: RunSpec;
  replicas: number;
  health: HealthSpec;
  drainTimeoutMs: number;
  stopTimeoutMs: number;
  strategy: StrategySpec;
  /** Lifecycle hooks; specs stored before hooks existed lack them (none). */
  hooks?: HooksSpec;
  /** Older stored specs lack it: the built-in proxy. */
  router?: RouterSpec;
  /** Absent for local processes (the default), so their spec hash is unchanged. */
  runtime?: RuntimeSpec;
  /** Passive outlier ejection; absent when not written (the defaults), so older spec hashes stay. */
  outlierDetection?: { consecutiveFailures: number; ejectForMs: number };
  /** WebSockets and event streams of a leaving instance; absent when not written (wait, up to drainTimeout). */
  longLived?: { drain: 'wait' | 'close'; timeoutMs: number };
  /** Analysis templates by name; older stored specs lack them (none). */
  analysis?: Record<string, AnalysisTemplateSpec>;
  /** The app's code as releases; absent: instances run from the working tree (as before releases). */
  release?: ReleaseSpec;
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
  /** `proxy.listen`: the shared listeners of the front door; null when not written. */
  listen: { http: HostPort | null; https: HostPort | null };
  /** `proxy.tls`. */
  tls: FrontDoorTlsSpec;
}

/** `proxy.tls`: ACME account, redirects and HSTS of the front door. */
export interface FrontDoorTlsSpec {
  /** Null: no ACME (apps then need `tls: { cert, key }` or `tls: false`). */
  acme: { email: string; directory: string; caFile: string | null } | null;
  /** Plain requests for a host served over TLS get 308 to https. */
  redirectHttp: boolean;
  /** The `Strict-Transport-Security` value sent on TLS responses; null: none. */
  hsts: string | null;
}

/** One request of the load `cutover rehearse` keeps on an app. */
export interface RehearsalRequest {
  method: string;
  /** The path, with its query if any. */
  path: string;
  body: string | null;
  headers: Record<string, string>;
}

/** The `rehearse:` block: what `cutover rehearse` sends to every app; no other command reads it. */
export interface RehearseSpec {
  requests: RehearsalRequest[];
}

export interface CutoverConfig {
  /** Absolute path of the file the config came from. */
  path: string;
  apps: AppSpec[];
  /** Where `/metrics` is served; null: nowhere. With a token, only to requests that bear it. */
  metrics?: { listen: HostPort | null; token?: string };
  proxy: ProxySpec;
  /** Absent in configs built by hand: a rehearsal sends GET / then. */
  rehearse?: RehearseSpec;
}
