import { InputError } from '../errors.js';
import { parseSize } from '../config/parse-size.js';
import fs from 'node:fs';
import { DEFAULT_LOG_MAX_BYTES, LogFiles } from '../runtime/local/log-files.js';

/** Sets the size cap of each instance log file (and of its `.1`), for the whole daemon. */
export const LOG_MAX_SIZE_ENV = 'CUTOVER_LOG_MAX_SIZE';

/** Smallest cap accepted: below it a log would rotate on every few lines. */
const MIN_LOG_MAX_BYTES = 64 * 1024;

/**
 * The instance log cap from `CUTOVER_LOG_MAX_SIZE` (`10MiB` when unset). Throws an InputError
 * naming the variable when it is not a size of at least 64KiB.
 */
export function logMaxBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[LOG_MAX_SIZE_ENV];
  if (text === undefined || text === '') return DEFAULT_LOG_MAX_BYTES;
  let bytes: number;
  try {
    bytes = parseSize(text);
  } catch (error) {
    throw new InputError('BAD_ENV', `${LOG_MAX_SIZE_ENV}=${JSON.stringify(text)}: ${(error as Error).message}`, {
      hint: `set ${LOG_MAX_SIZE_ENV} to a size such as 10MiB`,
    });
  }
  if (bytes < MIN_LOG_MAX_BYTES) {
    throw new InputError('BAD_ENV', `${LOG_MAX_SIZE_ENV}=${text} is below the 64KiB minimum`, { hint: `set ${LOG_MAX_SIZE_ENV} to at least 64KiB` });
  }
  return bytes;
}

/**
 * Keeps daemon.log under the same cap as instance logs, rotated the same way (its tail in
 * `daemon.log.1`), when it is where this process writes (`up --detach` hands it as stdout).
 * Returns how to stop watching.
 */
export function capDaemonLog(daemonLog: string, maxBytes: number): () => void {
  try {
    const out = fs.fstatSync(1);
    const file = fs.statSync(daemonLog);
    if (out.ino !== file.ino || out.dev !== file.dev) return () => undefined;
  } catch {
    return () => undefined;
  }
  const logs = new LogFiles(maxBytes, Date.now, false);
  logs.watch(daemonLog);
  return () => logs.close();
}
