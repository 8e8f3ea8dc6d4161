/**
 * Exit codes of every command; CI pipelines rely on them. Here, not under `cli/`, because the
 * daemon's controller process ends with EXIT_STORE_CORRUPT too and the daemon reads it.
 */
export const EXIT_OK = 0;
/** A rollout ended rolled back, aborted or failed, or could not start because another rollout of the app runs. */
export const EXIT_ROLLOUT_FAILED = 1;
/** Bad input: config, flags, arguments, or a request the daemon refused. */
export const EXIT_BAD_INPUT = 2;
/** The daemon could not be reached. */
export const EXIT_DAEMON_UNREACHABLE = 3;
/** The state database is corrupt: the daemon refuses to start and leaves the file as it is. */
export const EXIT_STORE_CORRUPT = 4;

export type ExitCode = typeof EXIT_OK | typeof EXIT_ROLLOUT_FAILED | typeof EXIT_BAD_INPUT | typeof EXIT_DAEMON_UNREACHABLE | typeof EXIT_STORE_CORRUPT;
