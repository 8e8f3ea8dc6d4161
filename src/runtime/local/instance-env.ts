/** Names of the daemon's environment every instance gets, besides `LC_*` and `run.inheritEnv`. */
export const INHERITED_ENV_NAMES: readonly string[] = ['PATH', 'HOME', 'USER', 'LANG', 'TZ'];

/**
 * What an instance gets of the daemon's own environment: `PATH`, `HOME`, `USER`, `LANG`,
 * `LC_*`, `TZ`, and the names the app lists in `run.inheritEnv`. Nothing else: whatever the
 * shell that ran `cutover up` held (cloud credentials, tokens) stays out of the apps. The
 * revision's `run.env` and the `PORT` and `CUTOVER_*` variables are added by the caller.
 *
 * @example
 * inheritedEnv({ PATH: '/usr/bin', AWS_SECRET_ACCESS_KEY: 'x', LC_ALL: 'C' }, []); // { PATH: '/usr/bin', LC_ALL: 'C' }
 */
export function inheritedEnv(daemonEnv: NodeJS.ProcessEnv, inheritEnv: readonly string[] = []): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(daemonEnv)) {
    if (value === undefined || name.startsWith('CUTOVER_')) continue;
    if (INHERITED_ENV_NAMES.includes(name) || name.startsWith('LC_') || inheritEnv.includes(name)) result[name] = value;
  }
  return result;
}
