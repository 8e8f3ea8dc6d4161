import fs from 'node:fs';
import net from 'node:net';
import { InputError } from '../errors.js';
import type { HostPort } from '../model/app-spec.js';
import { visible } from '../util/terminal-text.js';

/**
 * `cutover up` tries every address the apps listen on before the daemon starts: one another
 * process holds is exit 2 with the address and, where /proc says, that process. Nothing is left
 * bound (each probe closes at once).
 */
export async function checkAddressesFree(addresses: readonly { app: string; listen: HostPort }[]): Promise<void> {
  const seen = new Set<string>();
  for (const { app, listen } of addresses) {
    const key = `${listen.host}:${listen.port}`;
    if (seen.has(key) || listen.port === 0) continue;
    seen.add(key);
    const failure = await tryListen(listen);
    if (failure === null) continue;
    const shown = listen.host.includes(':') ? `[${listen.host}]:${listen.port}` : key;
    if (failure !== 'EADDRINUSE')
      throw new InputError('ADDRESS_IN_USE', `app ${app} cannot listen on ${shown}: ${failure}`, { hint: 'Check the address in cutover.yaml' });
    const holder = processListeningOn(listen.port);
    const who = holder ? `; ${holder.pid} (${holder.command}) listens there` : '';
    throw new InputError('ADDRESS_IN_USE', `app ${app} cannot listen on ${shown}: the address is in use${who}`, {
      hint: holder
        ? `Stop process ${holder.pid}, or give ${app} another listen address`
        : `Find what listens there (ss -ltnp), or give ${app} another listen address`,
    });
  }
}

function tryListen(listen: HostPort): Promise<string | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE' ? 'EADDRINUSE' : (error.code ?? error.message)));
    server.listen({ host: listen.host, port: listen.port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/**
 * The process with a listening TCP socket on `port`, from /proc/net/tcp{,6} (the socket's inode)
 * and /proc/PID/fd (who holds it); null where /proc does not say (another user's process, no /proc).
 */
export function processListeningOn(port: number, proc = '/proc'): { pid: number; command: string } | null {
  const inodes = new Set<string>();
  for (const table of ['net/tcp', 'net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`${proc}/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // State 0A is LISTEN; field 9 is the socket's inode.
      if (!local || fields[3] !== '0A' || parseInt(local.split(':')[1] ?? '', 16) !== port) continue;
      if (fields[9] && fields[9] !== '0') inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of safeList(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    for (const fd of safeList(`${proc}/${entry}/fd`)) {
      let target = '';
      try {
        target = fs.readlinkSync(`${proc}/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && inodes.has(match[1]!)) return { pid: Number(entry), command: commandOf(`${proc}/${entry}`) };
    }
  }
  return null;
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** The process's command line, shortened; its name when that cannot be read. Shown, never run. */
function commandOf(dir: string): string {
  try {
    const line = fs.readFileSync(`${dir}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    if (line) return visible(line.length > 80 ? `${line.slice(0, 77)}...` : line);
  } catch {
    // Fall back to the name below.
  }
  try {
    return visible(fs.readFileSync(`${dir}/comm`, 'utf8').trim());
  } catch {
    return 'unknown';
  }
}
