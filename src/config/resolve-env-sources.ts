import fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AppSpec, CutoverConfig } from '../model/app-spec.js';
import type { RawConfig } from './config-schema.js';
import type { RawApp } from './app-schema.js';
import { ENV_NAME_PATTERN, RESERVED_ENV_NAME, RESERVED_ENV_PREFIX } from './env-schema.js';
import type { Finding } from './finding.js';
import { parseDotenv } from './parse-dotenv.js';

/** An env file is a few dozen lines; anything much larger is the wrong file. */
const MAX_ENV_FILE_BYTES = 1024 * 1024;
const VARIABLE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The environment `${NAME}` is taken from: the command's own (cutover deploy, cutover up). */
export type SourceEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * Brings in the values that do not live in cutover.yaml, when a revision is made: `${NAME}` in
 * `run.env` values and in `metrics.token`, from `environment` (so a pipeline's secret variables
 * reach an app without being written down); `run.envFile`, a dotenv file relative to the
 * config; and the list of secret names (`run.secrets` and every name of the env file). A name
 * that is not set, a file that cannot be read, a name in both places: problems, never guesses.
 * Problems never quote a value. With `shouldReadAppEnv` false only `metrics.token` is resolved.
 *
 * @example
 * resolveEnvSources(raw, config, { DB_PASSWORD: 's3cret' }, true).config.apps[0].run.env.DATABASE_URL;
 * // 'postgres://app:s3cret@db/app' for DATABASE_URL: postgres://app:${DB_PASSWORD}@db/app
 */
export function resolveEnvSources(
  raw: RawConfig,
  config: CutoverConfig,
  environment: SourceEnvironment,
  shouldReadAppEnv = true,
): { config: CutoverConfig; findings: Finding[] } {
  const findings: Finding[] = [];
  const configDir = dirname(config.path);
  const apps = shouldReadAppEnv ? config.apps.map((spec) => resolveApp(spec, raw.apps[spec.name]!, configDir, environment, findings)) : config.apps;
  let metrics = config.metrics;
  if (raw.metrics !== false && raw.metrics?.token !== undefined) {
    const token = expand(raw.metrics.token, environment, ['metrics', 'token'], findings);
    metrics = { listen: config.metrics?.listen ?? null, token };
  }
  return { config: { ...config, apps, ...(metrics === undefined ? {} : { metrics }) }, findings };
}

function resolveApp(spec: AppSpec, raw: RawApp, configDir: string, environment: SourceEnvironment, findings: Finding[]): AppSpec {
  const at = (...keys: (string | number)[]): (string | number)[] => ['apps', spec.name, 'run', ...keys];
  const run = raw.run;
  if (spec.runtime?.kind === 'kubernetes') {
    for (const key of ['envFile', 'secrets', 'inheritEnv'] as const) {
      if (run?.[key] !== undefined) {
        findings.push({
          path: at(key),
          at: 'key',
          message: `run.${key} is not supported with the kubernetes runtime: pods take their environment from the pod template`,
          hint: 'give pods their secrets from a Kubernetes Secret in runtime.kubernetes.podTemplate',
        });
      }
    }
    return spec;
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.run.env)) env[name] = expand(value, environment, at('env', name), findings);
  const secrets = new Set(run?.secrets ?? []);
  if (run?.envFile !== undefined) {
    const file = resolve(configDir, run.envFile);
    for (const entry of readEnvFile(file, at('envFile'), findings)) {
      if (entry.name in env) {
        findings.push({
          path: at('env', entry.name),
          at: 'key',
          message: `${entry.name} is set both here and in ${file} (line ${entry.line})`,
          hint: 'keep one of them',
        });
        continue;
      }
      env[entry.name] = entry.value;
      secrets.add(entry.name);
    }
  }
  (run?.secrets ?? []).forEach((name, index) => {
    if (!(name in env))
      findings.push({
        path: at('secrets', index),
        at: 'value',
        message: `run.secrets names ${name}, which neither run.env nor run.envFile sets`,
        hint: 'check the spelling, or remove it',
      });
  });
  return {
    ...spec,
    run: {
      ...spec.run,
      env,
      ...(secrets.size > 0 ? { secrets: [...secrets].sort() } : {}),
      ...(run?.inheritEnv !== undefined && run.inheritEnv.length > 0 ? { inheritEnv: [...new Set(run.inheritEnv)].sort() } : {}),
    },
  };
}

/** `${NAME}` from the environment; `$${NAME}` is a literal `${NAME}`. */
function expand(text: string, environment: SourceEnvironment, path: (string | number)[], findings: Finding[]): string {
  return text.replace(VARIABLE, (whole, escape: string, name: string) => {
    if (escape === '$') return whole.slice(1);
    const value = environment[name];
    if (value !== undefined) return value;
    findings.push({
      path,
      at: 'value',
      message: `\${${name}} is not set in the environment of this command`,
      hint: `set ${name} before running cutover (a CI job's secret variable, for example), or write $\${${name}} for a literal \${${name}}`,
    });
    return whole;
  });
}

function readEnvFile(file: string, path: (string | number)[], findings: Finding[]): { name: string; value: string; line: number }[] {
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_ENV_FILE_BYTES) {
      findings.push({
        path,
        at: 'value',
        message: `the env file ${file} is over ${MAX_ENV_FILE_BYTES / 1024 / 1024} MiB`,
        hint: 'check that this is the right file',
      });
      return [];
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    findings.push({
      path,
      at: 'value',
      message: `cannot read the env file ${file}: ${reason}`,
      hint: 'the path is relative to the config file; create the file, or fix the path',
    });
    return [];
  }
  const { entries, problems } = parseDotenv(text);
  for (const problem of problems)
    findings.push({
      path,
      at: 'value',
      message: `${file}:${problem.line}: ${problem.message}`,
      hint: 'write NAME=value, one per line; quote values with spaces or #',
    });
  return entries.filter((entry) => {
    const problem = !ENV_NAME_PATTERN.test(entry.name)
      ? 'is not a valid environment variable name'
      : entry.name === RESERVED_ENV_NAME || entry.name.startsWith(RESERVED_ENV_PREFIX)
        ? `is reserved: cutover sets ${RESERVED_ENV_NAME} and ${RESERVED_ENV_PREFIX}*`
        : undefined;
    if (problem !== undefined) findings.push({ path, at: 'value', message: `${file}:${entry.line}: ${entry.name} ${problem}`, hint: 'rename or remove it' });
    return problem === undefined;
  });
}
