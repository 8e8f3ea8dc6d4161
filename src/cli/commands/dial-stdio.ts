import net from 'node:net';
import path from 'node:path';
import { DaemonUnreachableError } from '../../errors.js';
import { dataDirLayout, resolveDataDir } from '../../daemon/data-dir.js';
import type { GlobalOptions } from '../context.js';

export interface RemoteSideOptions extends GlobalOptions {
  /** The config's directory (`/DIR` of `--host`): its cutover.yaml, unless -c says another file there. */
  dir?: string;
}

/** The config file a remote-side command works for: -c relative to --dir. */
export function remoteConfigPath(options: RemoteSideOptions): string {
  return path.resolve(options.dir ?? '.', options.config);
}

/**
 * The server's side of `cutover --host`: bridges stdin and stdout to the daemon's admin socket,
 * byte for byte, until either side ends (run by `ssh HOST cutover dial-stdio --dir DIR`). Nothing
 * else is written to stdout; a daemon that cannot be reached exits 3, as locally.
 */
export async function dialStdio(options: RemoteSideOptions): Promise<void> {
  const layout = dataDirLayout(resolveDataDir(remoteConfigPath(options), options.dataDir));
  const socket = net.connect(layout.socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new DaemonUnreachableError(`cannot reach the cutover daemon at ${layout.socket} (${error.code ?? error.message})`, {
          hint: 'Start it on the server with `cutover up --detach` (or its systemd unit), in the directory --host names.',
        }),
      ),
    );
  });
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
  });
  process.stdin.unpipe(socket);
  process.stdin.destroy();
}
