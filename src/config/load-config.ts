import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type YAMLError } from 'yaml';
import type { CutoverConfig } from '../model/app-spec.js';
import { applyOverrides } from './apply-overrides.js';
import { checkConfig } from './check-config.js';
import { checkReadFiles } from './check-files.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { configSchema } from './config-schema.js';
import { DEFAULT_CONFIG_FILE, MAX_ALIAS_COUNT, MAX_CONFIG_BYTES } from './defaults.js';
import { describeIssues } from './describe-issue.js';
import { formatKeyPath, type Finding } from './finding.js';
import { resolveConfig } from './resolve-config.js';
import { resolveEnvSources, type SourceEnvironment } from './resolve-env-sources.js';
import { keyPathAtOffset, SourceLocator } from './source-locator.js';

export interface LoadConfigOptions {
  /** `--set KEY=VALUE` overrides, KEY relative to `apps` (e.g. `web.replicas=5`), VALUE as YAML. */
  overrides?: readonly string[];
  /** Where `${NAME}` in `run.env` and `metrics.token` comes from; default: this process's environment. */
  environment?: SourceEnvironment;
  /** False: `run.envFile` is not read and `${NAME}` in `run.env` is left (for what needs no app environment, like /metrics). */
  shouldReadAppEnv?: boolean;
}

/**
 * Reads, validates and resolves a `cutover.yaml`.
 *
 * @example
 * const config = loadConfig('cutover.yaml', { overrides: ['web.replicas=3'] });
 * config.apps[0]?.health.intervalMs; // 1000
 * @throws ConfigError listing every problem, each with file, line, column, key path and hint.
 */
export function loadConfig(path: string, options: LoadConfigOptions = {}): CutoverConfig {
  let text: string;
  try {
    const { size } = statSync(path);
    if (size > MAX_CONFIG_BYTES) throw new ConfigError([tooLarge(path, size)]);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([unreadable(path, error)], { cause: error });
  }
  return parseConfig(text, path, options);
}

/**
 * Validates and resolves the text of a `cutover.yaml`. `path` names the file in problems and
 * anchors relative `cwd`s.
 *
 * @example
 * parseConfig('apps:\n  web:\n    listen: 8080\n    run: { command: [node, server.js] }\n', '/srv/cutover.yaml');
 * // { path: '/srv/cutover.yaml', apps: [{ name: 'web', listen: { host: '127.0.0.1', port: 8080 }, ... }] }
 * @throws ConfigError listing every problem, each with file, line, column, key path and hint.
 */
export function parseConfig(text: string, path: string, options: LoadConfigOptions = {}): CutoverConfig {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) throw new ConfigError([tooLarge(path, bytes)]);

  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const doc = docs[0];
  if (doc === undefined || isEmptyDocument(doc)) {
    throw new ConfigError([
      {
        file: path,
        line: 1,
        column: 1,
        path: '',
        message: 'the file is empty',
        hint: `start it with apps: and declare your apps; see schema/cutover.schema.json`,
      },
    ]);
  }
  const locator = new SourceLocator(doc, lineCounter, path);
  // A trailing `---` with nothing after it is harmless; a second document with content is not.
  const second = docs.slice(1).find((extra) => !isEmptyDocument(extra));
  if (second !== undefined) {
    const { line, column } = locator.positionAt(second.range[0]);
    throw new ConfigError([
      {
        file: path,
        line,
        column,
        path: '',
        message: 'the file holds more than one YAML document; cutover reads exactly one',
        hint: 'remove the --- separator and merge the documents into one',
      },
    ]);
  }
  if (doc.errors.length > 0) throw new ConfigError(sortProblems(doc.errors.map((error) => yamlProblem(doc, text, error, locator))));

  const problems = applyOverrides(doc, options.overrides ?? [], locator);
  keepScalarsAsWritten(doc);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    throw new ConfigError([aliasBombProblem(doc, locator)], { cause: error });
  }

  const result = configSchema.safeParse(raw, { reportInput: true });
  const findings = [...(result.success ? [] : describeIssues(result.error.issues, configSchema)), ...checkConfig(raw)];
  problems.push(...findings.map((finding) => locateFinding(finding, locator)));
  if (problems.length > 0 || !result.success) throw new ConfigError(sortProblems(dedupe(problems)));
  const sourced = resolveEnvSources(
    result.data,
    resolveConfig(result.data, resolve(path)),
    options.environment ?? process.env,
    options.shouldReadAppEnv ?? true,
  );
  const findingsAfter = [...sourced.findings, ...checkReadFiles(sourced.config)];
  if (findingsAfter.length > 0) throw new ConfigError(sortProblems(dedupe(findingsAfter.map((finding) => locateFinding(finding, locator)))));
  return sourced.config;
}

function locateFinding(finding: Finding, locator: SourceLocator): ConfigProblem {
  const position = locator.locate(finding.path, finding.at);
  const message = position.isOverride ? `${finding.message} (from --set)` : finding.message;
  const problem: ConfigProblem = { file: position.file, line: position.line, column: position.column, path: formatKeyPath(finding.path), message };
  if (finding.hint !== undefined) problem.hint = finding.hint;
  return problem;
}

function yamlProblem(doc: Document, text: string, error: YAMLError, locator: SourceLocator): ConfigProblem {
  const offset = error.pos[0];
  const keyPath = keyPathAtOffset(doc, text, offset);
  // An error found only at the end of the file (an unclosed quote) is shown at the key it belongs to.
  const isAtEnd = text.slice(offset).trim() === '' && keyPath.length > 0;
  const { file, line, column } = isAtEnd ? locator.locate(keyPath, 'key') : locator.positionAt(offset);
  const problem = { file, line, column, path: formatKeyPath(keyPath) };
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return {
        ...problem,
        message: `the key "${String(keyPath[keyPath.length - 1] ?? '')}" appears twice in this mapping`,
        hint: 'a YAML mapping cannot repeat a key; remove or merge one of them',
      };
    case 'TAB_AS_INDENT':
      return { ...problem, message: 'tabs are not allowed as indentation in YAML', hint: 'indent with spaces, e.g. two per level' };
    default:
      return {
        ...problem,
        message: `invalid YAML: ${lowerFirst(error.message)}`,
        hint: 'check the indentation, quotes and brackets on and just before this line',
      };
  }
}

/** Reports the first alias, as the place where the expansion starts. */
function aliasBombProblem(doc: Document, locator: SourceLocator): ConfigProblem {
  const aliasPath = findAlias(doc.contents, []) ?? [];
  const { file, line, column } = locator.locate(aliasPath, 'value');
  return {
    file,
    line,
    column,
    path: formatKeyPath(aliasPath),
    message: `the YAML aliases in this file expand to more than ${MAX_ALIAS_COUNT} nodes`,
    hint: 'write the repeated values out, or use fewer aliases (*name)',
  };
}

function findAlias(node: unknown, path: PropertyKey[]): PropertyKey[] | undefined {
  if (isAlias(node)) return path;
  if (isMap(node)) {
    for (const pair of node.items) {
      const found = findAlias(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : String(pair.key)]);
      if (found !== undefined) return found;
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const found = findAlias(item, [...path, index]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Env values and command arguments are strings. When YAML reads one as a number or boolean,
 * keep the text as written: `VERSION: 1.10` means "1.10", not 1.1.
 */
export function keepScalarsAsWritten(doc: Document): void {
  const apps = doc.get('apps', true);
  if (!isMap(apps)) return;
  for (const pair of apps.items) {
    const run = isMap(pair.value) ? pair.value.get('run', true) : undefined;
    if (!isMap(run)) continue;
    const env = run.get('env', true);
    const command = run.get('command', true);
    const values: unknown[] = [
      ...(isMap(env) ? env.items.map((item) => (isPair(item) ? item.value : undefined)) : []),
      ...(isSeq(command) ? command.items : []),
    ];
    for (const value of values) {
      if (isScalar(value) && (typeof value.value === 'number' || typeof value.value === 'boolean')) {
        value.value = typeof value.source === 'string' && value.source !== '' ? value.source : String(value.value);
      }
    }
  }
}

/** No content at all: nothing, comments only, or a bare `---`. */
function isEmptyDocument(doc: Document): boolean {
  if (doc.errors.length > 0) return false;
  const { contents } = doc;
  return contents === null || (isScalar(contents) && contents.value === null && (contents.source ?? '') === '');
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.file}\0${problem.line}\0${problem.column}\0${problem.path}\0${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function tooLarge(path: string, bytes: number): ConfigProblem {
  const mib = (bytes / MAX_CONFIG_BYTES).toFixed(1);
  return {
    file: path,
    line: 0,
    column: 0,
    path: '',
    message: `the file is ${mib} MiB; the limit is ${MAX_CONFIG_BYTES / 1_048_576} MiB`,
    hint: 'a cutover config is a few kilobytes; check that this is the right file',
  };
}

function unreadable(path: string, error: unknown): ConfigProblem {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  const reasons: Record<string, string> = { ENOENT: 'it does not exist', EISDIR: 'it is a directory', EACCES: 'permission denied' };
  const reason = reasons[code] ?? (error instanceof Error ? error.message : String(error));
  return {
    file: path,
    line: 0,
    column: 0,
    path: '',
    message: `cannot read the config file: ${reason}`,
    hint: `check the path; cutover reads ${DEFAULT_CONFIG_FILE} in the current directory by default`,
  };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
