import fs from 'node:fs';
import type { AppEntry } from './haproxy-app-entry.js';
import type { Slot } from './haproxy-slots.js';

/** What the HAProxy router keeps across restarts of cutover, in its state dir. */
export interface RouterState {
  apps: AppEntry[];
  slots: Slot[];
  installedStructure: string;
}

/** Writes the state whole (a new file renamed over the old), so a crash leaves the old or the new one. */
export function saveRouterState(file: string, state: RouterState): void {
  fs.writeFileSync(`${file}.new`, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(`${file}.new`, file);
}

/** The saved state, or null when there is none (or it cannot be read). */
export function loadRouterState(file: string): RouterState | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RouterState;
  } catch {
    return null;
  }
}
