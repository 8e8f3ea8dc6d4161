import { InputError } from '../../errors.js';

/** Where `--host` points: a daemon on another machine, reached with the system `ssh` client. */
export interface SshHost {
  user: string;
  /** A DNS name, an IPv4 address, or an IPv6 address (without brackets). */
  host: string;
  port: number | null;
  /** Where the config lives there (its cutover.yaml); null: the user's home directory. */
  dir: string | null;
}

const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
/** Absolute, plain characters only: the path goes through the remote shell ssh runs commands with. */
const DIR = /^\/[A-Za-z0-9._/@+-]{0,1023}$/;

/**
 * Parses `ssh://USER@HOST[:PORT][/DIR]`. The string is untrusted (an environment variable of a CI
 * job): every part is checked against a strict pattern, so nothing can reach `ssh` as an option
 * (`-oProxyCommand=…`) or the remote shell as a command.
 *
 * @example
 * parseSshHost('ssh://deploy@app.example.com:2222/srv/shop'); // { user: 'deploy', host: 'app.example.com', port: 2222, dir: '/srv/shop' }
 */
export function parseSshHost(text: string): SshHost {
  const bad = (why: string): InputError =>
    // The text itself is not repeated: it may hold a password (ssh://user:secret@host).
    new InputError('HOST_INVALID', `--host (or CUTOVER_HOST) is not usable: ${why}`, {
      hint: 'Write it as ssh://USER@HOST[:PORT][/DIR], e.g. ssh://deploy@app.example.com/srv/shop (set ssh options in ~/.ssh/config, not here).',
    });
  const match = /^ssh:\/\/([^@/]*)@(\[[^\]]*\]|[^:/]*)(?::([^/]*))?(\/.*)?$/.exec(text);
  if (match === null) throw bad('expected ssh://USER@HOST[:PORT][/DIR]');
  const [, user = '', rawHost = '', rawPort, rawDir] = match;
  if (!USER.test(user)) throw bad('the user is not a plain user name (letters, digits, ._-; no password)');
  const isBracketed = rawHost.startsWith('[');
  const host = isBracketed ? rawHost.slice(1, -1) : rawHost;
  if (isBracketed ? !IPV6.test(host) || !host.includes(':') : !HOST_NAME.test(host))
    throw bad(`the host ${JSON.stringify(rawHost)} is not a host name or address`);
  let port: number | null = null;
  if (rawPort !== undefined) {
    port = /^[0-9]{1,5}$/.test(rawPort) ? Number(rawPort) : NaN;
    if (!(port >= 1 && port <= 65_535)) throw bad(`the port ${JSON.stringify(rawPort)} is not a number from 1 to 65535`);
  }
  let dir: string | null = null;
  if (rawDir !== undefined && rawDir !== '/') {
    const trimmed = rawDir.length > 1 ? rawDir.replace(/\/+$/, '') : rawDir;
    if (!DIR.test(trimmed) || trimmed.split('/').some((part) => part === '..' || part.startsWith('-'))) {
      throw bad(`the directory ${JSON.stringify(rawDir)} must be an absolute path of letters, digits and ._/@+- (no "..")`);
    }
    dir = trimmed;
  }
  return { user, host, port, dir };
}

/** The host for messages: the URL without anything doubtful (it was validated). */
export function describeSshHost(target: SshHost): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `ssh://${target.user}@${host}${target.port === null ? '' : `:${target.port}`}${target.dir ?? ''}`;
}
