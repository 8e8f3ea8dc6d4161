import { CutoverError } from '../errors.js';
import { errorCodeInfo } from '../error-catalog.js';
import { visible } from '../util/terminal-text.js';
import { DAEMON_OPTIONS_ENV, runDaemon, type DaemonProcessOptions } from './daemon-process.js';

/**
 * The process `cutover up --detach` starts: the daemon with the options `up` checked, without
 * loading the command line and the config again (seconds on a loaded machine, while clients
 * wait after a crash of the primary).
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.env[DAEMON_OPTIONS_ENV] ?? 'null') as DaemonProcessOptions | null;
  delete process.env[DAEMON_OPTIONS_ENV];
  if (options === null) throw new Error(`${DAEMON_OPTIONS_ENV} is not set: start the daemon with cutover up`);
  // Children are gone and the lock released; nothing is left worth waiting for.
  process.exit(await runDaemon(options));
}

main().catch((error: unknown) => {
  if (error instanceof CutoverError) {
    console.error(`error: ${visible(error.message)}`);
    if (error.hint) console.error(`hint: ${visible(error.hint)}`);
    process.exit(errorCodeInfo(error.code).exit);
  }
  console.error(`internal error: ${(error as Error)?.stack ?? String(error)}`);
  process.exit(1);
});
