import { InputError } from '../errors.js';
import type { HostPort } from '../model/app-spec.js';
import {
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_MAX_SURGE,
  DEFAULT_MAX_UNAVAILABLE,
  DEFAULT_REPLICAS,
  DEFAULT_SHELL,
  DEFAULT_STARTUP_TIMEOUT_MS,
} from './defaults.js';
import type { Finding } from './finding.js';
import { formatDuration, parseDuration } from './parse-duration.js';
import { formatListen, LISTEN_HINT, listensOverlap as overlaps, tryParseListen as tryListen } from './parse-listen.js';
import { splitCommand } from './split-command.js';
import { checkFrontDoor } from './check-front-door.js';

/**
 * The checks that span several keys, run on the raw config next to the schema's checks so that
 * every problem is reported at once. Each check skips values of the wrong type: the schema
 * reports those.
 */
export function checkConfig(raw: unknown): Finding[] {
  const apps = isRecord(raw) && isRecord(raw['apps']) ? raw['apps'] : {};
  const findings: Finding[] = [];
  const listeners: Listener[] = [];
  const topRouter = isRecord(raw) ? raw['router'] : undefined;
  for (const [name, app] of Object.entries(apps)) {
    if (!isRecord(app)) continue;
    findings.push(...checkLocalNeeds(name, app), ...checkKubernetesPair(name, app, topRouter), ...checkClusterAnalysis(name, app));
    findings.push(...checkReleaseRuntime(name, app));
    findings.push(
      ...checkCommand(name, app['run']),
      ...checkHooks(name, app['hooks']),
      ...checkHealth(name, app['health']),
      ...checkRolling(name, app['strategy']),
      ...checkStrategyChoice(name, app),
      ...checkAnalysisNames(name, app),
    );
    const strategy = isRecord(app['strategy']) ? app['strategy'] : {};
    const blueGreen = isRecord(strategy['blueGreen']) ? strategy['blueGreen'] : {};
    const preview = isRecord(blueGreen['preview']) ? blueGreen['preview'] : {};
    const own: Listener[] = [
      { name, key: `apps.${name}.listen`, path: ['apps', name, 'listen'], address: tryListen(app['listen']) },
      {
        name,
        key: `apps.${name}.strategy.blueGreen.preview.listen`,
        path: ['apps', name, 'strategy', 'blueGreen', 'preview', 'listen'],
        address: tryListen(preview['listen']),
      },
    ];
    for (const listener of own) {
      if (listener.address === undefined) continue;
      const other = listeners.find((l) => l.address !== undefined && overlaps(l.address, listener.address!));
      if (other !== undefined) findings.push(listenConflict(other, listener));
      listeners.push(listener);
    }
  }
  if (isRecord(raw)) findings.push(...checkFrontDoor(raw, apps));
  return findings;
}

interface Listener {
  name: string;
  key: string;
  path: (string | number)[];
  address: HostPort | undefined;
}

function listenConflict(first: Listener, second: Listener): Finding {
  const shown = formatListen(second.address!);
  const otherShown = formatListen(first.address!);
  const who = (l: Listener): string => (l.key.endsWith('.preview.listen') ? `the preview of app "${l.name}"` : `app "${l.name}"`);
  const isAppPair = !first.key.endsWith('.preview.listen') && !second.key.endsWith('.preview.listen');
  return {
    path: second.path,
    at: 'value',
    message: isAppPair
      ? shown === otherShown
        ? `apps "${first.name}" and "${second.name}" both listen on ${shown}`
        : `apps "${first.name}" (${otherShown}) and "${second.name}" (${shown}) both listen on port ${second.address!.port}`
      : `${who(first)} (${otherShown}) and ${who(second)} (${shown}) both listen on port ${second.address!.port}`,
    hint: isAppPair ? `give each app its own port; ${first.key} is ${otherShown}` : `give each listener its own port; ${first.key} is ${otherShown}`,
  };
}

/** A local app needs its command and its listen address; a kubernetes app has an image and a Service instead. */
function checkLocalNeeds(name: string, app: Record<string, unknown>): Finding[] {
  const runtime = isRecord(app['runtime']) ? app['runtime'] : {};
  if (isRecord(runtime['kubernetes'])) return [];
  const findings: Finding[] = [];
  const unlessKubernetes = 'or run the app on Kubernetes with runtime: { kubernetes: { image: …, port: … } }';
  // An app with hosts may live on the shared listeners alone (checkFrontDoor checks those).
  if (app['listen'] === undefined && app['hosts'] === undefined)
    findings.push({ path: ['apps', name, 'listen'], at: 'value', message: 'missing required key "listen"', hint: `${LISTEN_HINT}; ${unlessKubernetes}` });
  const isContainer = isRecord(runtime['container']);
  if (isContainer) return findings;
  if (isRecord(app['run']) && app['run']['command'] === undefined)
    findings.push({
      // Where zod put it before container apps made command optional: the key that is missing.
      path: ['apps', name, 'run', 'command'],
      at: 'key',
      message: 'missing required key "command"',
      hint: `add the program to start, e.g. command: [node, server.js]; or run an image with runtime: { container: { image: … } }`,
    });
  if (app['run'] === undefined)
    findings.push({
      path: ['apps', name, 'run'],
      at: 'value',
      message: 'missing required key "run"',
      hint: `add run.command, the program to start, e.g. command: [node, server.js]; ${unlessKubernetes}`,
    });
  return findings;
}

/** The kubernetes router moves traffic between pods, so it needs the kubernetes runtime, and the other way round. */
function checkKubernetesPair(name: string, app: Record<string, unknown>, topRouter: unknown): Finding[] {
  const runtime = isRecord(app['runtime']) ? app['runtime'] : {};
  const isKubernetesRuntime = isRecord(runtime['kubernetes']);
  const ownRouter = isRecord(app['router']) ? app['router'] : undefined;
  const router = ownRouter ?? (isRecord(topRouter) ? topRouter : {});
  const isKubernetesRouter = isRecord(router['kubernetes']);
  if (isKubernetesRouter && !isKubernetesRuntime) {
    return [
      {
        path: ownRouter ? ['apps', name, 'router', 'kubernetes'] : ['router', 'kubernetes'],
        at: 'key',
        message: `the kubernetes router routes to pods, but app "${name}" runs local processes`,
        hint: `add runtime: { kubernetes: { image: …, port: … } } to app "${name}", or pick router builtin or haproxy`,
      },
    ];
  }
  if (isKubernetesRuntime && (isRecord(router['builtin']) || isRecord(router['haproxy']))) {
    return [
      {
        path: ownRouter ? ['apps', name, 'router'] : ['router'],
        at: 'key',
        message: `app "${name}" runs on Kubernetes, where only the kubernetes router reaches its pods`,
        hint: 'write router: { kubernetes: { service: … } }, or leave router out',
      },
    ];
  }
  return [];
}

/** A Kubernetes app's image is its release: a release of files would never reach its pods. */
function checkReleaseRuntime(name: string, app: Record<string, unknown>): Finding[] {
  const runtime = isRecord(app['runtime']) ? app['runtime'] : {};
  if (app['release'] === undefined || !isRecord(runtime['kubernetes'])) return [];
  return [
    {
      path: ['apps', name, 'release'],
      at: 'key',
      message: `app "${name}" runs on Kubernetes, where its image is its release`,
      hint: 'remove release: and ship the code in a new image (runtime.kubernetes.image)',
    },
  ];
}

/** The builtin provider counts what passes cutover's own proxy; on a cluster, traffic goes through the Service or the Gateway instead. */
function checkClusterAnalysis(name: string, app: Record<string, unknown>): Finding[] {
  const runtime = isRecord(app['runtime']) ? app['runtime'] : {};
  if (!isRecord(runtime['kubernetes']) || !isRecord(app['analysis'])) return [];
  const findings: Finding[] = [];
  for (const [template, spec] of Object.entries(app['analysis'])) {
    if (!isRecord(spec) || spec['provider'] !== 'builtin') continue;
    findings.push({
      path: ['apps', name, 'analysis', template, 'provider'],
      at: 'value',
      message: `provider builtin measures cutover's own proxy, which is not in the path of app "${name}" on Kubernetes: it would measure nothing`,
      hint: 'use provider: prometheus with a query on the request counters of your ingress, gateway or app by revision, e.g. query: (sum(rate(http_requests_total{revision="{{revision}}",code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{revision="{{revision}}"}[1m])); see docs/kubernetes.md',
    });
  }
  return findings;
}

const STRATEGY_KEYS = ['rolling', 'blueGreen', 'canary'] as const;

/** One strategy per app, and a blue-green preview no larger than the app. */
function checkStrategyChoice(name: string, app: Record<string, unknown>): Finding[] {
  const strategy = app['strategy'];
  if (!isRecord(strategy)) return [];
  const findings: Finding[] = [];
  const named = STRATEGY_KEYS.filter((key) => strategy[key] !== undefined);
  if (named.length > 1) {
    findings.push({
      path: ['apps', name, 'strategy', named[1]!],
      at: 'key',
      message: `strategy names ${named.join(' and ')}; an app uses one strategy`,
      hint: `keep one of them; to try another for one deploy, run: cutover deploy ${name} --strategy ${named[1] === 'blueGreen' ? 'blue-green' : named[1]}`,
    });
  }
  const blueGreen = strategy['blueGreen'];
  const replicas = typeof app['replicas'] === 'number' ? app['replicas'] : DEFAULT_REPLICAS;
  if (isRecord(blueGreen) && typeof blueGreen['previewReplicas'] === 'number' && blueGreen['previewReplicas'] > replicas) {
    findings.push({
      path: ['apps', name, 'strategy', 'blueGreen', 'previewReplicas'],
      at: 'value',
      message: `previewReplicas ${blueGreen['previewReplicas']} is more than replicas ${replicas}`,
      hint: `green grows to replicas before the switch; write previewReplicas: ${replicas} or less`,
    });
  }
  return findings;
}

function checkCommand(name: string, run: unknown, path: (string | number)[] = ['apps', name, 'run']): Finding[] {
  if (!isRecord(run)) return [];
  const command = run['command'];
  const shell = typeof run['shell'] === 'boolean' ? run['shell'] : DEFAULT_SHELL;
  const argv = typeof command === 'string' ? command : Array.isArray(command) && command.every(isScalar) ? command.map(String) : undefined;
  if (argv === undefined) return [];
  try {
    splitCommand(argv, shell);
    return [];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return [{ path: [...path, 'command'], at: 'value', message: error.message, hint: error.hint }];
  }
}

/** Each command hook splits like run.command; `shell` and `cwd` belong to commands only. */
function checkHooks(name: string, hooks: unknown): Finding[] {
  if (!isRecord(hooks)) return [];
  const findings: Finding[] = [];
  for (const [point, list] of Object.entries(hooks)) {
    if (!Array.isArray(list)) continue;
    list.forEach((hook: unknown, index) => {
      if (!isRecord(hook)) return;
      const path = ['apps', name, 'hooks', point, index];
      findings.push(...checkCommand(name, hook, path));
      if (hook['http'] === undefined || hook['command'] !== undefined) return;
      for (const key of ['shell', 'cwd']) {
        if (hook[key] === undefined) continue;
        findings.push({
          path: [...path, key],
          at: 'key',
          message: `${key} applies to command hooks; this hook is an http call`,
          hint: `remove ${key}, or make the hook a command`,
        });
      }
    });
  }
  return findings;
}

function checkHealth(name: string, health: unknown): Finding[] {
  if (!isRecord(health)) return [];
  const timeoutMs = tryDuration(health['timeout'], DEFAULT_HEALTH_TIMEOUT_MS);
  const startupTimeoutMs = tryDuration(health['startupTimeout'], DEFAULT_STARTUP_TIMEOUT_MS);
  if (timeoutMs === undefined || startupTimeoutMs === undefined || timeoutMs <= startupTimeoutMs) return [];
  const key = health['timeout'] === undefined ? 'startupTimeout' : 'timeout';
  return [
    {
      path: ['apps', name, 'health', key],
      at: 'value',
      message: `the check timeout ${formatDuration(timeoutMs)} is longer than startupTimeout ${formatDuration(startupTimeoutMs)}`,
      hint: 'a check that may take longer than the startup timeout can never pass in time; lower health.timeout or raise health.startupTimeout',
    },
  ];
}

function checkRolling(name: string, strategy: unknown): Finding[] {
  const rolling = isRecord(strategy) ? strategy['rolling'] : undefined;
  if (!isRecord(rolling)) return [];
  const maxSurge = rolling['maxSurge'] ?? DEFAULT_MAX_SURGE;
  const maxUnavailable = rolling['maxUnavailable'] ?? DEFAULT_MAX_UNAVAILABLE;
  if (!isZero(maxSurge) || !isZero(maxUnavailable)) return [];
  return [
    {
      path: ['apps', name, 'strategy', 'rolling'],
      at: 'value',
      message: 'maxSurge and maxUnavailable are both 0: nothing could ever be replaced',
      hint: 'set maxSurge: 1 to start a new instance before stopping an old one',
    },
  ];
}

/** Every template a strategy names must be declared under the app's `analysis:`. */
function checkAnalysisNames(name: string, app: Record<string, unknown>): Finding[] {
  const declared = isRecord(app['analysis']) ? Object.keys(app['analysis']) : [];
  const strategy = isRecord(app['strategy']) ? app['strategy'] : {};
  const uses: { path: (string | number)[]; value: unknown }[] = [];
  const at = (...path: (string | number)[]): unknown =>
    path.reduce<unknown>((node, key) => (isRecord(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[key] : undefined), strategy);
  uses.push({ path: ['rolling', 'analysis'], value: at('rolling', 'analysis') });
  uses.push({ path: ['blueGreen', 'prePromotionAnalysis'], value: at('blueGreen', 'prePromotionAnalysis') });
  uses.push({ path: ['blueGreen', 'postPromotionAnalysis'], value: at('blueGreen', 'postPromotionAnalysis') });
  uses.push({ path: ['canary', 'analysis'], value: at('canary', 'analysis') });
  const steps = at('canary', 'steps');
  if (Array.isArray(steps)) steps.forEach((_, i) => uses.push({ path: ['canary', 'steps', i, 'analysis'], value: at('canary', 'steps', i, 'analysis') }));
  const findings: Finding[] = [];
  for (const use of uses) {
    const templates = isRecord(use.value) ? use.value['templates'] : undefined;
    if (!Array.isArray(templates)) continue;
    templates.forEach((template, i) => {
      if (typeof template !== 'string' || declared.includes(template)) return;
      findings.push({
        path: ['apps', name, 'strategy', ...use.path, 'templates', i],
        at: 'value',
        message: `analysis template "${template}" is not declared`,
        hint: declared.length
          ? `declare it under apps.${name}.analysis, or use one of: ${declared.join(', ')}`
          : `declare it under apps.${name}.analysis, e.g. analysis: { ${template}: { provider: builtin, metric: successRate, successCondition: ">= 0.99" } }`,
      });
    });
  }
  return findings;
}

function isZero(value: unknown): boolean {
  return value === 0 || value === '0%';
}

function tryDuration(value: unknown, defaultMs: number): number | undefined {
  if (value === undefined) return defaultMs;
  if (typeof value !== 'string') return undefined;
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
