import { dirname, resolve } from 'node:path';
import {
  HOOK_POINTS,
  type AppSpec,
  type ReleaseSpec,
  type HookSpec,
  type HooksSpec,
  type BlueGreenSpec,
  type RouterSpec,
  type RuntimeSpec,
  type CanarySpec,
  type CanaryStep,
  type CountOrPercent,
  type CutoverConfig,
  type ProxySpec,
  type StrategySpec,
  type AnalysisTemplateSpec,
} from '../model/app-spec.js';
import type { RawApp } from './app-schema.js';
import type { RawConfig } from './config-schema.js';
import type { RawProxy } from './proxy-schema.js';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_BUILD_TIMEOUT_MS,
  DEFAULT_RELEASES_KEPT,
  DEFAULT_HEADER_TIMEOUT_MS,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_REQUEST_LINE_BYTES,
  DEFAULT_MIN_BODY_BYTES_PER_SECOND,
  DEFAULT_HEALTH_PATH,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_HEALTHY_THRESHOLD,
  DEFAULT_MAX_SURGE,
  DEFAULT_MAX_UNAVAILABLE,
  DEFAULT_MIN_READY_MS,
  DEFAULT_PROGRESS_DEADLINE_MS,
  DEFAULT_REPLICAS,
  DEFAULT_SHELL,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  DEFAULT_UNHEALTHY_THRESHOLD,
  DEFAULT_HOOK_HTTP_METHOD,
  DEFAULT_HOOK_TIMEOUT_MS,
  DEFAULT_ABORT_SCALE_DOWN_DELAY_MS,
  DEFAULT_CANARY_REPLICAS,
  DEFAULT_CANARY_STEPS,
  DEFAULT_MIRROR_PERCENT,
  DEFAULT_PREVIEW_HEADER,
  DEFAULT_SCALE_DOWN_DELAY_MS,
  DEFAULT_STICKY_TTL_MS,
  DEFAULT_ANALYSIS_INTERVAL_MS,
  DEFAULT_CONSECUTIVE_ERROR_LIMIT,
  DEFAULT_FAILURE_LIMIT,
  DEFAULT_METRICS_LISTEN,
  DEFAULT_MIN_REQUESTS,
  DEFAULT_HAPROXY_BINARY,
  DEFAULT_HAPROXY_MODE,
  DEFAULT_HAPROXY_SERVERS,
  DEFAULT_OUTLIER_CONSECUTIVE_FAILURES,
  DEFAULT_OUTLIER_EJECT_FOR_MS,
  DEFAULT_LONG_LIVED_DRAIN,
} from './defaults.js';
import { defaultBackendName } from '../router/haproxy/haproxy-layout.js';
import { parseDuration } from './parse-duration.js';
import { parseListen } from './parse-listen.js';
import { parseSize } from './parse-size.js';
import { splitCommand } from './split-command.js';
import { resolveRehearse } from './resolve-rehearse.js';
import { resolveContainerRuntime } from './resolve-container-runtime.js';
import { resolveFrontDoor, resolveProxyListen, resolveProxyTls } from './resolve-front-door.js';
import { FRONT_DOOR_ONLY_LISTEN } from '../model/app-spec.js';

/**
 * Fills in defaults and turns a validated raw config into the resolved shape the rest of cutover
 * uses: durations in milliseconds, listen addresses parsed, commands split, `cwd` absolute
 * (relative to the config file's directory).
 *
 * @param configPath absolute path of the config file.
 */
export function resolveConfig(raw: RawConfig, configPath: string): CutoverConfig {
  const configDir = dirname(configPath);
  return {
    path: configPath,
    apps: Object.entries(raw.apps).map(([name, app]) => ({
      ...resolveApp(name, app, configDir),
      ...withFrontDoor(app, raw.proxy, configDir),
      router: resolveRouter(name, app.router ?? raw.router ?? (app.runtime?.kubernetes ? { kubernetes: {} } : undefined), configDir),
      ...resolveRuntime(app.runtime, configDir),
    })),
    metrics: { listen: raw.metrics === false || raw.metrics?.listen === false ? null : parseListen(raw.metrics?.listen ?? DEFAULT_METRICS_LISTEN) },
    proxy: { ...resolveProxy(raw.proxy), listen: resolveProxyListen(raw.proxy), tls: resolveProxyTls(raw.proxy, configDir) },
    rehearse: resolveRehearse(raw.rehearse),
  };
}

/** An app with hosts: its front door, and no address of its own unless it wrote one. */
function withFrontDoor(app: RawApp, proxy: RawProxy | undefined, configDir: string): Partial<AppSpec> {
  const frontDoor = resolveFrontDoor(app, proxy, configDir);
  if (frontDoor === undefined) return {};
  return app.listen === undefined ? { frontDoor, listen: { ...FRONT_DOOR_ONLY_LISTEN } } : { frontDoor };
}

export function resolveProxy(raw: RawProxy | undefined): Omit<ProxySpec, 'listen' | 'tls'> {
  return {
    maxHeaderBytes: sizeBytes(raw?.maxHeaderSize, DEFAULT_MAX_HEADER_BYTES),
    maxRequestLineBytes: sizeBytes(raw?.maxRequestLineSize, DEFAULT_MAX_REQUEST_LINE_BYTES),
    maxHeaderCount: raw?.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT,
    maxBodyBytes: sizeBytes(raw?.maxBodySize, DEFAULT_MAX_BODY_BYTES),
    headerTimeoutMs: durationMs(raw?.headerTimeout, DEFAULT_HEADER_TIMEOUT_MS),
    minBodyBytesPerSecond: sizeBytes(raw?.minBodyRate, DEFAULT_MIN_BODY_BYTES_PER_SECOND),
    maxConnections: raw?.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    trustedProxies: [...(raw?.trustedProxies ?? [])],
  };
}

function sizeBytes(value: string | number | undefined, defaultBytes: number): number {
  return value === undefined ? defaultBytes : parseSize(value);
}

function resolveApp(name: string, app: RawApp, configDir: string): AppSpec {
  const shell = app.run?.shell ?? DEFAULT_SHELL;
  const rawCommand = app.run?.command;
  const command = rawCommand === undefined ? [] : typeof rawCommand === 'string' ? rawCommand : rawCommand.map(String);
  return {
    name,
    // A kubernetes app may leave both out (checkConfig requires them of local apps): its Service serves the container port.
    listen: app.listen === undefined ? { host: DEFAULT_KUBERNETES_LISTEN_HOST, port: app.runtime?.kubernetes?.port ?? 0 } : parseListen(app.listen),
    run: {
      command: command.length === 0 ? [] : splitCommand(command, shell),
      shell,
      // With a release, run.cwd is inside it: taken from release.from here, moved to the release at deploy.
      cwd: resolve(app.release ? resolve(configDir, app.release.from) : configDir, app.run?.cwd ?? '.'),
      env: Object.fromEntries(Object.entries(app.run?.env ?? {}).map(([key, value]) => [key, String(value)])),
    },
    replicas: app.replicas ?? DEFAULT_REPLICAS,
    health: {
      path: app.health?.path ?? DEFAULT_HEALTH_PATH,
      intervalMs: durationMs(app.health?.interval, DEFAULT_HEALTH_INTERVAL_MS),
      timeoutMs: durationMs(app.health?.timeout, DEFAULT_HEALTH_TIMEOUT_MS),
      healthyThreshold: app.health?.healthyThreshold ?? DEFAULT_HEALTHY_THRESHOLD,
      unhealthyThreshold: app.health?.unhealthyThreshold ?? DEFAULT_UNHEALTHY_THRESHOLD,
      startupTimeoutMs: durationMs(app.health?.startupTimeout, DEFAULT_STARTUP_TIMEOUT_MS),
    },
    drainTimeoutMs: durationMs(app.drainTimeout, DEFAULT_DRAIN_TIMEOUT_MS),
    stopTimeoutMs: durationMs(app.stopTimeout, DEFAULT_STOP_TIMEOUT_MS),
    strategy: resolveStrategy(app.strategy),
    hooks: resolveHooks(app.hooks, configDir),
    analysis: resolveAnalysis(app.analysis),
    ...(app.release === undefined ? {} : { release: resolveRelease(app.release, configDir) }),
    ...(app.outlierDetection === undefined ? {} : { outlierDetection: resolveOutlierDetection(app.outlierDetection) }),
    ...(app.longLived === undefined
      ? {}
      : {
          longLived: {
            drain: app.longLived.drain ?? DEFAULT_LONG_LIVED_DRAIN,
            timeoutMs: durationMs(app.longLived.timeout, durationMs(app.drainTimeout, DEFAULT_DRAIN_TIMEOUT_MS)),
          },
        }),
  };
}

/** The release block with defaults: `from` absolute, build steps as argv with their timeouts. */
function resolveRelease(raw: NonNullable<RawApp['release']>, configDir: string): ReleaseSpec {
  return {
    from: resolve(configDir, raw.from),
    exclude: [...(raw.exclude ?? [])],
    build: (raw.build ?? []).map((step) =>
      Array.isArray(step)
        ? { command: [...step], timeoutMs: DEFAULT_BUILD_TIMEOUT_MS }
        : { command: [...step.command], timeoutMs: durationMs(step.timeout, DEFAULT_BUILD_TIMEOUT_MS) },
    ),
    shared: [...(raw.shared ?? [])],
    keep: raw.keep ?? DEFAULT_RELEASES_KEPT,
  };
}

/** The app's outlier ejection with defaults filled in; also what an app without the key gets. */
export function resolveOutlierDetection(raw: RawApp['outlierDetection']): { consecutiveFailures: number; ejectForMs: number } {
  return {
    consecutiveFailures: raw?.consecutiveFailures ?? DEFAULT_OUTLIER_CONSECUTIVE_FAILURES,
    ejectForMs: durationMs(raw?.ejectFor, DEFAULT_OUTLIER_EJECT_FOR_MS),
  };
}

/** Analysis templates with every default filled in. */
export function resolveAnalysis(raw: RawApp['analysis']): Record<string, AnalysisTemplateSpec> {
  return Object.fromEntries(
    Object.entries(raw ?? {}).map(([name, t]): [string, AnalysisTemplateSpec] => [
      name,
      {
        name,
        provider: t.provider,
        metric: t.metric ?? null,
        address: t.address ?? null,
        query: t.query ?? null,
        command: t.command ?? null,
        url: t.url ?? null,
        jsonPath: t.jsonPath ?? null,
        successCondition: t.successCondition ?? null,
        failureCondition: t.failureCondition ?? null,
        intervalMs: durationMs(t.interval, DEFAULT_ANALYSIS_INTERVAL_MS),
        count: t.count ?? null,
        failureLimit: t.failureLimit ?? DEFAULT_FAILURE_LIMIT,
        consecutiveErrorLimit: t.consecutiveErrorLimit ?? DEFAULT_CONSECUTIVE_ERROR_LIMIT,
        inconclusiveLimit: t.inconclusiveLimit ?? 0,
        minRequests: t.minRequests ?? DEFAULT_MIN_REQUESTS,
        baseline: t.baseline ?? null,
      },
    ]),
  );
}

/** Every point gets a list (empty when none); commands are split and `cwd` made absolute. */
export function resolveHooks(raw: RawApp['hooks'], configDir: string): HooksSpec {
  const resolveOne = (hook: NonNullable<NonNullable<RawApp['hooks']>['preDeploy']>[number]): HookSpec => {
    const timeoutMs = durationMs(hook.timeout, DEFAULT_HOOK_TIMEOUT_MS);
    const isIdempotent = hook.idempotent ?? false;
    if (hook.http) {
      const { url, method, headers, body } = hook.http;
      return { action: { kind: 'http', url, method: method ?? DEFAULT_HOOK_HTTP_METHOD, headers: headers ?? {}, body: body ?? null }, timeoutMs, isIdempotent };
    }
    const shell = hook.shell ?? DEFAULT_SHELL;
    const command = typeof hook.command === 'string' ? hook.command : hook.command!.map(String);
    return { action: { kind: 'command', command: splitCommand(command, shell), shell, cwd: resolve(configDir, hook.cwd ?? '.') }, timeoutMs, isIdempotent };
  };
  return Object.fromEntries(HOOK_POINTS.map((point) => [point, (raw?.[point] ?? []).map(resolveOne)])) as HooksSpec;
}

/** The app's own router block, else the top-level one, else the built-in proxy. */
/** The listen address recorded for a kubernetes app without one: what its Service serves. */
const DEFAULT_KUBERNETES_LISTEN_HOST = '0.0.0.0';

/** Local apps get no `runtime` key, so their spec hash stays what it was before runtimes existed. */
function resolveRuntime(raw: RawApp['runtime'], configDir: string): { runtime?: RuntimeSpec } {
  if (raw?.container) return { runtime: resolveContainerRuntime(raw.container, configDir) };
  const kubernetes = raw?.kubernetes;
  if (!kubernetes) return {};
  return {
    runtime: {
      kind: 'kubernetes',
      context: kubernetes.context ?? null,
      namespace: kubernetes.namespace ?? null,
      image: kubernetes.image,
      port: kubernetes.port,
      podTemplate: kubernetes.podTemplate === undefined ? null : resolve(configDir, kubernetes.podTemplate),
    },
  };
}

function resolveRouter(app: string, raw: RawConfig['router'], configDir: string): RouterSpec {
  if (raw?.kubernetes) return { kind: 'kubernetes', service: raw.kubernetes.service ?? app, httpRoute: raw.kubernetes.httpRoute ?? null };
  if (!raw?.haproxy) return { kind: 'builtin' };
  const haproxy = raw.haproxy;
  return {
    kind: 'haproxy',
    mode: haproxy.mode ?? DEFAULT_HAPROXY_MODE,
    socket: haproxy.socket === undefined ? null : resolve(configDir, haproxy.socket),
    backend: haproxy.backend ?? defaultBackendName(app),
    servers: haproxy.servers ?? DEFAULT_HAPROXY_SERVERS,
    binary: haproxy.binary ?? DEFAULT_HAPROXY_BINARY,
  };
}

function resolveStrategy(raw: RawApp['strategy']): StrategySpec {
  const rolling = raw?.rolling;
  return {
    use: raw?.blueGreen ? 'blue-green' : raw?.canary ? 'canary' : 'rolling',
    rolling: {
      maxSurge: countOrPercent(rolling?.maxSurge, DEFAULT_MAX_SURGE),
      maxUnavailable: countOrPercent(rolling?.maxUnavailable, DEFAULT_MAX_UNAVAILABLE),
      minReadyMs: durationMs(rolling?.minReady, DEFAULT_MIN_READY_MS),
      progressDeadlineMs: durationMs(rolling?.progressDeadline, DEFAULT_PROGRESS_DEADLINE_MS),
      analysis: rolling?.analysis ?? null,
    },
    blueGreen: resolveBlueGreen(raw?.blueGreen),
    canary: resolveCanary(raw?.canary),
  };
}

/** Blue-green settings from the raw block; its defaults when there is none. */
export function resolveBlueGreen(raw?: NonNullable<RawApp['strategy']>['blueGreen']): BlueGreenSpec {
  const preview = raw?.preview;
  return {
    preview: preview
      ? { header: preview.header ?? null, listen: preview.listen === undefined ? null : parseListen(preview.listen) }
      : { header: { ...DEFAULT_PREVIEW_HEADER }, listen: null },
    autoPromoteMs: raw?.autoPromote === undefined || raw.autoPromote === false ? null : parseDuration(raw.autoPromote),
    scaleDownDelayMs: durationMs(raw?.scaleDownDelay, DEFAULT_SCALE_DOWN_DELAY_MS),
    abortScaleDownDelayMs: durationMs(raw?.abortScaleDownDelay, DEFAULT_ABORT_SCALE_DOWN_DELAY_MS),
    previewReplicas: raw?.previewReplicas ?? null,
    progressDeadlineMs: durationMs(raw?.progressDeadline, DEFAULT_PROGRESS_DEADLINE_MS),
    prePromotionAnalysis: raw?.prePromotionAnalysis ?? null,
    postPromotionAnalysis: raw?.postPromotionAnalysis ?? null,
  };
}

/** Canary settings from the raw block; its defaults when there is none. */
export function resolveCanary(raw?: NonNullable<RawApp['strategy']>['canary']): CanarySpec {
  const steps: CanaryStep[] = raw?.steps
    ? raw.steps.map((step): CanaryStep => {
        if (step.setWeight !== undefined) return { setWeight: step.setWeight };
        if (step.pause !== undefined) return { pause: typeof step.pause === 'string' ? parseDuration(step.pause) : null };
        if (step.analysis !== undefined) return { analysis: { templates: step.analysis.templates } };
        return { setCanaryScale: step.setCanaryScale as CountOrPercent | 'auto' };
      })
    : DEFAULT_CANARY_STEPS.map((step) => ({ ...step }));
  return {
    steps,
    canaryReplicas: raw?.canaryReplicas ?? DEFAULT_CANARY_REPLICAS,
    sticky: raw?.sticky ? { cookie: raw.sticky.cookie, ttlMs: durationMs(raw.sticky.ttl, DEFAULT_STICKY_TTL_MS) } : null,
    routes: raw?.routes ?? [],
    mirror: { percent: raw?.mirror?.percent ?? DEFAULT_MIRROR_PERCENT },
    abortScaleDownDelayMs: durationMs(raw?.abortScaleDownDelay, DEFAULT_ABORT_SCALE_DOWN_DELAY_MS),
    progressDeadlineMs: durationMs(raw?.progressDeadline, DEFAULT_PROGRESS_DEADLINE_MS),
    analysis: raw?.analysis ? { templates: raw.analysis.templates, startingStep: raw.analysis.startingStep ?? 0 } : null,
  };
}

function durationMs(text: string | undefined, defaultMs: number): number {
  return text === undefined ? defaultMs : parseDuration(text);
}

/** The schema has checked that a string is `N%`. */
function countOrPercent(value: number | string | undefined, defaultValue: number): CountOrPercent {
  return value === undefined ? defaultValue : (value as CountOrPercent);
}
