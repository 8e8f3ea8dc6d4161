import fs from 'node:fs';
import path from 'node:path';

/** What `cutover restart` asks of the running primary (written to the data dir, then SIGUSR2). */
export interface RestartRequest {
  id: string;
  /** The cutover to start: the CLI's own `bin/cutover.js`, so an upgraded package takes over. */
  bin: string;
  /** Absent: as the running daemon has it. */
  workers?: number;
  /** Absent: as the running daemon has it; null: off (`--no-admin`). */
  admin?: string | null;
  /** Absent: as the running daemon has it; null: off (`--no-ui`). */
  ui?: string | null;
}

/** What the old primary answers once the new daemon serves, or could not start. */
export interface RestartOutcome {
  id: string;
  isServing: boolean;
  /** The new daemon's primary, when it serves. */
  pid?: number;
  /** Why the new daemon did not start (the old one serves on). */
  reason?: string;
}

export function restartRequestFile(dataDir: string): string {
  return path.join(dataDir, 'restart-request.json');
}

export function restartOutcomeFile(dataDir: string): string {
  return path.join(dataDir, 'restart-outcome.json');
}

/** Written whole (a temporary file renamed), mode 0600: the primary never reads half of one. */
export function writePrivateJson(file: string, value: unknown): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(value), { mode: 0o600 });
  fs.renameSync(temporary, file);
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
