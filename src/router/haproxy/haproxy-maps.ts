import fs from 'node:fs';
import path from 'node:path';
import type { AppEntry } from './haproxy-app-entry.js';
import { listenKey, mapFileName, revisionBackendName, type MapKind } from './haproxy-layout.js';
import { stickyBuckets } from './haproxy-plan.js';
import { escapeArg } from './runtime-api.js';

/** The entries of every map the app's frontend rules read, for its current plan: key → revision backend. */
export function mapContents(entry: AppEntry): Map<MapKind, [string, string][]> {
  const { plan, frontend } = entry;
  const backendOf = (revision: number): string | undefined => {
    const index = entry.revisionIndex[revision];
    return index === undefined ? undefined : revisionBackendName(frontend.backend, index);
  };
  const contents = new Map<MapKind, [string, string][]>();
  const add = (kind: MapKind, key: string, revision: number): void => {
    const target = backendOf(revision);
    const list = contents.get(kind)!;
    if (target !== undefined && !list.some(([k]) => k === key)) list.push([key, target]);
  };
  for (const name of frontend.headerNames) {
    const kind = { header: name };
    contents.set(kind, []);
    for (const route of plan.routes ?? [])
      if ('header' in route.match && route.match.header.name.toLowerCase() === name) add(kind, route.match.header.value, route.revision);
  }
  for (const name of frontend.cookieNames) {
    const kind = { cookie: name };
    contents.set(kind, []);
    for (const route of plan.routes ?? []) if ('cookie' in route.match && route.match.cookie.name === name) add(kind, route.match.cookie.value, route.revision);
  }
  // Only maps the frontend's rules read exist (HAProxy loads a map only when a rule names it).
  if (frontend.previews.length > 0 || (plan.previews ?? []).length > 0) {
    contents.set('preview', []);
    for (const preview of plan.previews ?? []) add('preview', listenKey(preview.listen), preview.revision);
  }
  if (frontend.stickyCookie !== null) {
    contents.set('sticky', []);
    stickyBuckets(plan).forEach((revision, bucket) => add('sticky', String(bucket), revision));
    contents.set('meta', plan.sticky ? [['ttl', String(Math.max(1, Math.round(plan.sticky.ttlMs / 1000)))]] : []);
  }
  return contents;
}

/** Managed mode: writes every app's map files (each replaced whole), so a reload loads the current routes. */
export function writeMapFiles(mapsDir: string, entries: Iterable<AppEntry>): void {
  for (const entry of entries) {
    for (const [kind, lines] of mapContents(entry)) {
      const file = path.join(mapsDir, mapFileName(entry.frontend.backend, kind));
      const text = lines.map(([key, value]) => `${escapeArg(key)} ${value}\n`).join('');
      fs.writeFileSync(`${file}.new`, text, { mode: 0o600 });
      fs.renameSync(`${file}.new`, file);
    }
  }
}
