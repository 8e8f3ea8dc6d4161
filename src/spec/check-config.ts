import { InputError } from '../errors.js';
import type { HostPort } from '../model/spec.js';
import {
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_MAX_SURGE,
  DEFAULT_MAX_UNAVAILABLE,
  DEFAULT_SHELL,
  DEFAULT_STARTUP_TIMEOUT_MS,
} from './defaults.js';
import type { Finding } from './finding.js';
import { formatDuration, parseDuration } from './parse-duration.js';
import { formatListen, parseListen } from './parse-listen.js';
import { splitCommand } from './split-command.js';

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

/**
 * The checks that span several keys, run on the raw config next to the schema's checks so that
 * every problem is reported at once. Each check skips values of the wrong type: the schema
 * reports those.
 */
export function checkConfig(raw: unknown): Finding[] {
  const apps = isRecord(raw) && isRecord(raw['apps']) ? raw['apps'] : {};
  const findings: Finding[] = [];
  const listeners: { name: string; address: HostPort }[] = [];
  for (const [name, app] of Object.entries(apps)) {
    if (!isRecord(app)) continue;
    findings.push(...checkCommand(name, app['run']), ...checkHealth(name, app['health']), ...checkRolling(name, app['strategy']));
    const address = tryListen(app['listen']);
    if (address === undefined) continue;
    const other = listeners.find((listener) => overlaps(listener.address, address));
    if (other !== undefined) {
      const shown = formatListen(address);
      const otherShown = formatListen(other.address);
      findings.push({
        path: ['apps', name, 'listen'],
        at: 'value',
        message: shown === otherShown
          ? `apps "${other.name}" and "${name}" both listen on ${shown}`
          : `apps "${other.name}" (${otherShown}) and "${name}" (${shown}) both listen on port ${address.port}`,
        hint: `give each app its own port; apps.${other.name}.listen is ${otherShown}`,
      });
    }
    listeners.push({ name, address });
  }
  return findings;
}

function checkCommand(name: string, run: unknown): Finding[] {
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
    return [{ path: ['apps', name, 'run', 'command'], at: 'value', message: error.message, hint: error.hint }];
  }
}

function checkHealth(name: string, health: unknown): Finding[] {
  if (!isRecord(health)) return [];
  const timeoutMs = tryDuration(health['timeout'], DEFAULT_HEALTH_TIMEOUT_MS);
  const startupTimeoutMs = tryDuration(health['startupTimeout'], DEFAULT_STARTUP_TIMEOUT_MS);
  if (timeoutMs === undefined || startupTimeoutMs === undefined || timeoutMs <= startupTimeoutMs) return [];
  const key = health['timeout'] === undefined ? 'startupTimeout' : 'timeout';
  return [{
    path: ['apps', name, 'health', key],
    at: 'value',
    message: `the check timeout ${formatDuration(timeoutMs)} is longer than startupTimeout ${formatDuration(startupTimeoutMs)}`,
    hint: 'a check that may take longer than the startup timeout can never pass in time; lower health.timeout or raise health.startupTimeout',
  }];
}

function checkRolling(name: string, strategy: unknown): Finding[] {
  const rolling = isRecord(strategy) ? strategy['rolling'] : undefined;
  if (!isRecord(rolling)) return [];
  const maxSurge = rolling['maxSurge'] ?? DEFAULT_MAX_SURGE;
  const maxUnavailable = rolling['maxUnavailable'] ?? DEFAULT_MAX_UNAVAILABLE;
  if (!isZero(maxSurge) || !isZero(maxUnavailable)) return [];
  return [{
    path: ['apps', name, 'strategy', 'rolling'],
    at: 'value',
    message: 'maxSurge and maxUnavailable are both 0: nothing could ever be replaced',
    hint: 'set maxSurge: 1 to start a new instance before stopping an old one',
  }];
}

function isZero(value: unknown): boolean {
  return value === 0 || value === '0%';
}

function overlaps(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && (a.host === b.host || WILDCARD_HOSTS.has(a.host) || WILDCARD_HOSTS.has(b.host));
}

function tryListen(value: unknown): HostPort | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseListen(value);
  } catch {
    return undefined;
  }
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
