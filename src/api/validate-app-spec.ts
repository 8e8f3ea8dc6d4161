import { CutoverError } from '../errors.js';
import { STRATEGY_NAMES } from '../model/rollout.js';
import { CONTAINER_ENGINES, CONTAINER_NETWORKS, HOOK_POINTS, type AppSpec, type HookSpec } from '../model/app-spec.js';
import { APP_NAME_PATTERN, ENV_NAME_PATTERN, VOLUME_PATTERN } from '../config/name-patterns.js';

/**
 * The API takes resolved app specs (the CLI validated the YAML). A library caller may send
 * anything, so the shape is checked here before it can reach the control loop.
 */
export function assertAppSpecs(value: unknown): AppSpec[] {
  if (!Array.isArray(value) || value.length === 0) throw badSpec('"apps" must be a non-empty list of app specs');
  return value.map((spec, index) => assertAppSpec(spec, `apps[${index}]`));
}

function assertAppSpec(value: unknown, where: string): AppSpec {
  const spec = value as AppSpec;
  const check = (isValid: boolean, what: string): void => {
    if (!isValid) throw badSpec(`${where}: ${what}`);
  };
  check(typeof spec === 'object' && spec !== null, 'must be an object');
  check(typeof spec.name === 'string' && APP_NAME_PATTERN.test(spec.name), `name must match ${APP_NAME_PATTERN.source}`);
  // An app on the shared listeners alone has the listen { host: '', port: 0 }.
  const isFrontDoorOnly = spec.frontDoor !== undefined && spec.listen?.host === '' && spec.listen?.port === 0;
  check(isFrontDoorOnly || (typeof spec.listen?.host === 'string' && isPort(spec.listen?.port)), 'listen must be { host, port }');
  check(spec.frontDoor === undefined || isFrontDoor(spec.frontDoor), 'frontDoor must be { hosts, paths, tls }');
  // A kubernetes app runs its image: its command may be empty.
  check(
    Array.isArray(spec.run?.command) &&
      (spec.run.command.length > 0 || spec.runtime?.kind === 'kubernetes' || spec.runtime?.kind === 'container') &&
      spec.run.command.every((part) => typeof part === 'string'),
    'run.command must be a non-empty list of strings',
  );
  check(typeof spec.run?.cwd === 'string' && spec.run.cwd.startsWith('/'), 'run.cwd must be an absolute path');
  check(
    typeof spec.run?.env === 'object' && spec.run.env !== null && Object.values(spec.run.env).every((v) => typeof v === 'string'),
    'run.env must map names to strings',
  );
  check(spec.run.secrets === undefined || isNameList(spec.run.secrets), 'run.secrets must be a list of environment variable names');
  check(spec.run.inheritEnv === undefined || isNameList(spec.run.inheritEnv), 'run.inheritEnv must be a list of environment variable names');
  check(Number.isInteger(spec.replicas) && spec.replicas >= 1 && spec.replicas <= 1000, 'replicas must be an integer from 1 to 1000');
  check(typeof spec.health?.path === 'string' && spec.health.path.startsWith('/'), 'health.path must start with /');
  for (const key of ['intervalMs', 'timeoutMs', 'healthyThreshold', 'unhealthyThreshold', 'startupTimeoutMs'] as const) {
    check(isPositive(spec.health?.[key]), `health.${key} must be a positive number`);
  }
  check(isNonNegative(spec.drainTimeoutMs) && isNonNegative(spec.stopTimeoutMs), 'drainTimeoutMs and stopTimeoutMs must be numbers ≥ 0');
  const rolling = spec.strategy?.rolling;
  check(typeof rolling === 'object' && rolling !== null, 'strategy.rolling is missing');
  check(isCountOrPercent(rolling.maxSurge) && isCountOrPercent(rolling.maxUnavailable), 'rolling.maxSurge and maxUnavailable must be counts or "N%"');
  check(isNonNegative(rolling.minReadyMs) && isPositive(rolling.progressDeadlineMs), 'rolling.minReadyMs must be ≥ 0 and progressDeadlineMs > 0');
  const { use, blueGreen, canary } = spec.strategy;
  check(use === undefined || STRATEGY_NAMES.includes(use), `strategy.use must be one of ${STRATEGY_NAMES.join(', ')}`);
  check(
    blueGreen === undefined ||
      (typeof blueGreen === 'object' && blueGreen !== null && isNonNegative(blueGreen.scaleDownDelayMs) && typeof blueGreen.preview === 'object'),
    'strategy.blueGreen must be a resolved blue-green block',
  );
  check(
    canary === undefined || (typeof canary === 'object' && canary !== null && Array.isArray(canary.steps) && Array.isArray(canary.routes)),
    'strategy.canary must be a resolved canary block',
  );
  check(
    spec.release === undefined || isRelease(spec.release),
    'release must be a resolved release block (absolute from, relative shared paths, argv build steps)',
  );
  check(spec.release === undefined || spec.runtime?.kind !== 'kubernetes', 'release: a Kubernetes app ships its code in its image');
  check(spec.hooks === undefined || isHooks(spec.hooks), `hooks must map each of ${HOOK_POINTS.join(', ')} to a list of resolved hooks`);
  const router = spec.router;
  check(
    router === undefined ||
      (typeof router === 'object' &&
        router !== null &&
        (router.kind === 'builtin' ||
          (router.kind === 'haproxy' && (router.mode === 'managed' || router.mode === 'external') && typeof router.backend === 'string') ||
          (router.kind === 'kubernetes' && typeof router.service === 'string' && (router.httpRoute === null || typeof router.httpRoute === 'string')))),
    'router must be { kind: builtin }, a resolved haproxy router or a resolved kubernetes router',
  );
  const runtime = spec.runtime;
  check(
    runtime === undefined ||
      runtime.kind === 'local' ||
      (runtime.kind === 'kubernetes' &&
        typeof runtime.image === 'string' &&
        runtime.image !== '' &&
        isPositive(runtime.port) &&
        (runtime.podTemplate === null || typeof runtime.podTemplate === 'string')) ||
      isContainerRuntime(runtime),
    'runtime must be { kind: local }, a resolved container runtime (engine, image, network, volumes, args) or a resolved kubernetes runtime (image, port)',
  );
  check((runtime?.kind === 'kubernetes') === (router?.kind === 'kubernetes'), 'the kubernetes runtime and the kubernetes router go together');
  return spec;
}

function isHooks(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return HOOK_POINTS.every((point) => {
    const list = (value as Record<string, unknown>)[point];
    return (
      Array.isArray(list) &&
      list.every((hook: HookSpec) => {
        if (typeof hook !== 'object' || hook === null || !isPositive(hook.timeoutMs) || typeof hook.isIdempotent !== 'boolean') return false;
        const action = hook.action;
        if (action?.kind === 'command')
          return (
            Array.isArray(action.command) &&
            action.command.length > 0 &&
            action.command.every((p) => typeof p === 'string') &&
            typeof action.shell === 'boolean' &&
            typeof action.cwd === 'string' &&
            action.cwd.startsWith('/')
          );
        if (action?.kind === 'http')
          return (
            typeof action.url === 'string' &&
            typeof action.method === 'string' &&
            typeof action.headers === 'object' &&
            action.headers !== null &&
            (action.body === null || typeof action.body === 'string')
          );
        return false;
      })
    );
  });
}

function badSpec(message: string): CutoverError {
  return new CutoverError('BAD_REQUEST', `invalid app spec: ${message}`, { hint: 'Send specs as loadConfig() returns them.' });
}

const isNameList = (v: unknown): boolean => Array.isArray(v) && v.every((name) => typeof name === 'string' && ENV_NAME_PATTERN.test(name));
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((item) => typeof item === 'string');
const isFrontDoor = (v: AppSpec['frontDoor']): boolean =>
  typeof v === 'object' &&
  v !== null &&
  isStrings(v.hosts) &&
  isStrings(v.paths) &&
  v.paths.every((path) => path.startsWith('/')) &&
  (v.tls === false || v.tls === 'acme' || (typeof v.tls === 'object' && v.tls !== null && typeof v.tls.cert === 'string' && typeof v.tls.key === 'string'));
const isPort = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65_535;
const isPositive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isNonNegative = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isCountOrPercent = (v: unknown): boolean =>
  (Number.isInteger(v) && (v as number) >= 0) || (typeof v === 'string' && /^\d{1,3}%$/.test(v) && Number(v.slice(0, -1)) <= 100);

/** A resolved `runtime.container` as `cutover deploy` sends it (its image not yet resolved to an ID: the controller does that). */
function isContainerRuntime(runtime: NonNullable<AppSpec['runtime']>): boolean {
  if (runtime.kind !== 'container') return false;
  const isStringList = (value: unknown): boolean => Array.isArray(value) && value.every((item) => typeof item === 'string');
  return (
    CONTAINER_ENGINES.includes(runtime.engine) &&
    typeof runtime.image === 'string' &&
    /^[^\s-]\S*$/.test(runtime.image) &&
    CONTAINER_NETWORKS.includes(runtime.network) &&
    (runtime.port === null || isPositive(runtime.port)) &&
    (runtime.network === 'host' || runtime.port !== null) &&
    isStringList(runtime.volumes) &&
    runtime.volumes.every((volume) => VOLUME_PATTERN.test(volume)) &&
    isStringList(runtime.args) &&
    (runtime.args.length === 0 || runtime.args[0]!.startsWith('-'))
  );
}

function isRelease(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const release = value as NonNullable<AppSpec['release']>;
  const isStrings = (list: unknown): list is string[] => Array.isArray(list) && list.every((item) => typeof item === 'string' && item.length > 0);
  const isInside = (p: string): boolean => !p.startsWith('/') && !p.split('/').includes('..');
  return (
    typeof release.from === 'string' &&
    release.from.startsWith('/') &&
    isStrings(release.exclude) &&
    isStrings(release.shared) &&
    release.shared.every(isInside) &&
    Number.isInteger(release.keep) &&
    release.keep >= 0 &&
    Array.isArray(release.build) &&
    release.build.every((step) => isStrings(step?.command) && step.command.length > 0 && isPositive(step.timeoutMs))
  );
}
