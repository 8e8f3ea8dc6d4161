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

/**
 * How a restart's new cutover asks to be started: its lean daemon process, with the options its
 * `up` checked. Written by that `up` (asked to through SUCCESSOR_LAUNCH_FILE_ENV), read by the
 * old primary, which starts it with the listening sockets. It comes from the cutover the restart
 * names, which may be newer than the old primary's code.
 */
export interface SuccessorLaunch {
  /** The daemon's main script. */
  script: string;
  nodeFlags: string[];
  /** Environment variables it needs on top of the old primary's. */
  env: Record<string, string>;
}

/** Environment variable asking `cutover up` (in a restart) to write its SuccessorLaunch to this file and exit, instead of running the daemon itself. */
export const SUCCESSOR_LAUNCH_FILE_ENV = 'CUTOVER_SUCCESSOR_LAUNCH_FILE';

export function successorLaunchFile(dataDir: string): string {
  return path.join(dataDir, 'successor-launch.json');
}

/** The launch a restart's `up` wrote; undefined when there is none or it is not one. */
export function readSuccessorLaunch(file: string): SuccessorLaunch | undefined {
  let value: Partial<SuccessorLaunch> | null;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<SuccessorLaunch> | null;
  } catch {
    return undefined;
  }
  const isStrings = (list: unknown): list is string[] => Array.isArray(list) && list.every((item) => typeof item === 'string');
  if (typeof value?.script !== 'string' || !isStrings(value.nodeFlags) || typeof value.env !== 'object' || value.env === null) return undefined;
  if (!isStrings(Object.values(value.env))) return undefined;
  return { script: value.script, nodeFlags: value.nodeFlags, env: value.env };
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
