import { isCollection, isScalar, parseDocument, type Document } from 'yaml';
import type { ConfigProblem } from './config-error.js';
import { describeValue } from './describe-value.js';
import { formatKeyPath } from './finding.js';
import type { SourceLocator } from './source-locator.js';

const OVERRIDE_HINT = 'write --set KEY=VALUE with KEY relative to apps:, e.g. --set web.replicas=3 or --set web.run.env.VERSION=2';

/** One parsed `--set KEY=VALUE`. */
export interface Override {
  /** The key path inside `apps`, e.g. `['web', 'replicas']`. */
  key: string[];
  /** The value as YAML text, e.g. `5`, `[a, b]` or `"x"`. */
  value: string;
}

/**
 * Splits `KEY=VALUE` at the first `=`. Returns a problem instead when the override is malformed.
 *
 * @example parseOverride('web.run.env.VERSION=2') // { key: ['web', 'run', 'env', 'VERSION'], value: '2' }
 */
export function parseOverride(text: string): Override | ConfigProblem {
  const origin = `--set ${text}`;
  const equals = text.indexOf('=');
  if (equals === -1) return overrideProblem(origin, '', `expected KEY=VALUE, got ${describeValue(text)} (from --set)`, OVERRIDE_HINT);
  const keyText = text.slice(0, equals);
  const key = keyText.split('.');
  if (key.some((part) => part.trim() === '')) {
    const message = keyText === '' ? 'the key before "=" is empty (from --set)' : `the key ${describeValue(keyText)} has an empty part (from --set)`;
    return overrideProblem(origin, '', message, OVERRIDE_HINT);
  }
  return { key, value: text.slice(equals + 1) };
}

/**
 * Applies `--set` overrides to the YAML document before validation, so an overridden value is
 * checked like any other. Each value is parsed as YAML (`5` is a number, `[a, b]` a list) and
 * its nodes are marked in `locator`, so its problems name the override instead of a file line.
 *
 * @returns problems with the overrides themselves (malformed, or not settable).
 */
export function applyOverrides(doc: Document, overrides: readonly string[], locator: SourceLocator): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const text of overrides) {
    const origin = `--set ${text}`;
    const parsed = parseOverride(text);
    if (!('key' in parsed)) {
      problems.push(parsed);
      continue;
    }
    const path = ['apps', ...parsed.key];
    const shownPath = formatKeyPath(path);
    if (parsed.key[0] === 'apps' && !doc.hasIn(['apps', 'apps'])) {
      problems.push(
        overrideProblem(
          origin,
          shownPath,
          'keys of --set are relative to apps:, and there is no app named "apps" (from --set)',
          `write --set ${parsed.key.slice(1).join('.')}=${parsed.value}`,
        ),
      );
      continue;
    }
    if (!doc.hasIn(['apps', parsed.key[0]!])) {
      const apps = doc.getIn(['apps']);
      const known = isCollection(apps) ? apps.items.map((item) => String((item as { key?: { value?: unknown } }).key?.value ?? '')) : [];
      problems.push(
        overrideProblem(
          origin,
          shownPath,
          `there is no app named "${parsed.key[0]}" in the config (from --set)`,
          known.length ? `apps in the config: ${known.join(', ')}` : 'declare the app under apps: first',
        ),
      );
      continue;
    }
    // An environment variable's value is a string whatever it looks like (`a: b`, `true`, `010`); quotes still quote.
    if (isEnvValue(parsed.key)) {
      const node = doc.createNode(unquoted(parsed.value));
      doc.setIn(path, node);
      locator.markOverride(node, origin);
      markCreatedCollections(doc, path, origin, locator);
      continue;
    }
    const valueDoc = parseDocument(parsed.value, { prettyErrors: false });
    const yamlError = valueDoc.errors[0];
    if (yamlError !== undefined) {
      problems.push(
        overrideProblem(
          origin,
          shownPath,
          `the value ${describeValue(parsed.value)} is not valid YAML: ${yamlError.message} (from --set)`,
          'quote the value for your shell and for YAML, e.g. --set \'web.run.env.GREETING="a: b"\'',
        ),
      );
      continue;
    }
    const node = valueDoc.contents ?? doc.createNode(null);
    try {
      doc.setIn(path, node);
    } catch {
      const blocker = firstScalarOnPath(doc, path);
      problems.push(
        overrideProblem(
          origin,
          shownPath,
          `cannot set ${shownPath}: ${blocker} is a single value, not a mapping or list (from --set)`,
          `set ${blocker.replace(/^apps\./, '')} itself instead`,
        ),
      );
      continue;
    }
    locator.markOverride(node, origin);
    markCreatedCollections(doc, path, origin, locator);
  }
  return problems;
}

/** `"x"` or `'x'` as YAML reads them; any other text as it is. */
function unquoted(text: string): string {
  const valueDoc = parseDocument(text, { prettyErrors: false });
  const node = valueDoc.contents;
  const isQuoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
  return valueDoc.errors.length === 0 && isQuoted ? String(node.value) : text;
}

/** `web.run.env.NAME`: one variable of an app's environment. */
function isEnvValue(key: readonly string[]): boolean {
  return key.length === 4 && key[1] === 'run' && key[2] === 'env';
}

/** `setIn` creates the missing mappings on the way; they have no position, so they belong to the override. */
function markCreatedCollections(doc: Document, path: readonly string[], origin: string, locator: SourceLocator): void {
  for (let length = 0; length < path.length; length++) {
    const node: unknown = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true);
    if (isCollection(node) && node.range == null) locator.markOverride(node, origin);
  }
}

function firstScalarOnPath(doc: Document, path: readonly string[]): string {
  for (let length = 1; length < path.length; length++) {
    const node: unknown = doc.getIn(path.slice(0, length), true);
    if (node !== undefined && !isCollection(node)) return formatKeyPath(path.slice(0, length));
  }
  return 'the document';
}

function overrideProblem(origin: string, path: string, message: string, hint: string): ConfigProblem {
  return { file: origin, line: 0, column: 0, path, message, hint };
}
