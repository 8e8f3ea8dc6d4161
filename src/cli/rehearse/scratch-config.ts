import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { isAlias, isCollection, isPair, parseDocument, type Alias, type Document, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { InternalError } from '../../errors.js';
import { hasOwnListener, HOOK_POINTS, type AppSpec, type CutoverConfig, type ProxySpec } from '../../model/app-spec.js';
import { findFreePort } from '../../runtime/local/free-port.js';
import { loadConfig } from '../../config/index.js';
import { keepScalarsAsWritten } from '../../config/load-config.js';

const REHEARSAL_HOST = '127.0.0.1';

/**
 * Writes the config a rehearsal daemon runs: the user's file with only the rehearsed apps, each
 * with an address of its own on a free loopback port (an app with only `hosts` keeps none), the
 * front door's shared listeners (`proxy.listen`) on free loopback ports, `/metrics` served nowhere, and every path the file resolves against
 * its own directory written out absolute (the copy lives in the scratch dir). The YAML document
 * is edited, not rebuilt, so every other value stays as written. Returns the apps as the copy
 * resolves them, checked to be the originals with only `listen` changed, and its `proxy:` block.
 */
export async function writeScratchConfig(config: CutoverConfig, apps: readonly AppSpec[], target: string): Promise<{ apps: AppSpec[]; proxy: ProxySpec }> {
  const doc = parseDocument(fs.readFileSync(config.path, 'utf8'));
  // Edits and removed apps must not reach through an alias: every alias becomes a copy first
  // (loadConfig has bounded how far they expand).
  expandAliases(doc, doc.contents);
  // `VERSION: 1.10` means "1.10": written back as a number it would read 1.1.
  keepScalarsAsWritten(doc);
  for (const name of Object.keys((doc.toJS() as { apps: object }).apps)) {
    if (!apps.some((app) => app.name === name)) doc.deleteIn(['apps', name]);
  }
  const expected: AppSpec[] = [];
  for (const app of apps) {
    // An app with only `hosts` stays so: it is reached through the copy's shared listeners.
    const listen = hasOwnListener(app.listen) ? { host: REHEARSAL_HOST, port: await findFreePort(REHEARSAL_HOST) } : app.listen;
    if (hasOwnListener(listen)) doc.setIn(['apps', app.name, 'listen'], `${listen.host}:${listen.port}`);
    const tls = app.frontDoor?.tls;
    if (typeof tls === 'object') doc.setIn(['apps', app.name, 'tls'], doc.createNode({ cert: tls.cert, key: tls.key }));
    doc.setIn(['apps', app.name, 'run', 'cwd'], app.run.cwd);
    for (const point of HOOK_POINTS) {
      app.hooks?.[point].forEach((hook, index) => {
        if (hook.action.kind === 'command') doc.setIn(['apps', app.name, 'hooks', point, index, 'cwd'], hook.action.cwd);
      });
    }
    expected.push({ ...app, listen });
  }
  for (const kind of ['http', 'https'] as const) {
    if (config.proxy.listen[kind] !== null) doc.setIn(['proxy', 'listen', kind], `${REHEARSAL_HOST}:${await findFreePort(REHEARSAL_HOST)}`);
  }
  doc.setIn(['metrics', 'listen'], false);
  fs.writeFileSync(target, doc.toString(), { mode: 0o600 });

  const copy = loadConfig(target);
  const copied = copy.apps;
  for (const app of expected) {
    const copy = copied.find((candidate) => candidate.name === app.name);
    if (!isDeepStrictEqual(copy, app))
      throw new InternalError(`the rehearsal's copy of ${config.path} resolves app "${app.name}" differently from the original`);
  }
  return { apps: copied, proxy: copy.proxy };
}

/** Replaces every alias under `node` with a copy of what it names. */
function expandAliases(doc: Document, node: unknown): void {
  if (!isCollection(node)) return;
  const items = node.items as unknown[];
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    if (isPair(item)) {
      if (isAlias(item.value)) item.value = copyOf(doc, item.value);
      expandAliases(doc, item.value);
    } else {
      if (isAlias(item)) items[index] = copyOf(doc, item);
      expandAliases(doc, items[index]);
    }
  }
}

function copyOf(doc: Document, alias: Alias): unknown {
  const copy = alias.resolve(doc)?.clone() as Scalar | YAMLMap | YAMLSeq | undefined;
  if (copy === undefined) return null;
  // One anchor name may be defined once: the copy goes without it.
  copy.anchor = undefined;
  return copy;
}
