import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/index.js';
import { socketKey } from '../../daemon/held-sockets.js';
import { commandContext, type GlobalOptions } from '../context.js';

export interface SystemdOptions extends GlobalOptions {
  user?: boolean;
}

/**
 * `cutover systemd [--user]`: a cutover.service and a cutover.socket for this config and data
 * dir. systemd holds the apps' listening sockets (so a crashed daemon leaves connections waiting
 * in the backlog, not refused) and passes them to `cutover up` (LISTEN_FDS); `ExecReload` is
 * `cutover restart`, whose new daemon writes its pid to the pid file systemd follows.
 * `KillMode=process`: a daemon that dies leaves the app instances to the next one to adopt.
 */
export function systemd(options: SystemdOptions): void {
  const { configPath, layout } = commandContext(options);
  const config = loadConfig(configPath, { shouldReadAppEnv: false });
  const addresses = [...new Set(config.apps.flatMap((app) => (app.listen && app.listen.port !== 0 ? [socketKey(app.listen.host, app.listen.port)] : [])))];
  const bin = fileURLToPath(new URL('../../../../bin/cutover.js', import.meta.url));
  const cutover = `${quote(process.execPath)} ${quote(bin)}`;
  const where = `-c ${quote(configPath)} --data-dir ${quote(layout.root)}`;
  const target = options.user ? 'default.target' : 'multi-user.target';
  console.log(`# cutover.service (${options.user ? '~/.config/systemd/user/' : '/etc/systemd/system/'})
[Unit]
Description=cutover daemon for ${configPath}
Requires=cutover.socket
After=network.target cutover.socket

[Service]
Type=forking
PIDFile=${layout.pidFile}
WorkingDirectory=${path.dirname(configPath)}
ExecStart=${cutover} up --detach ${where}
ExecReload=${cutover} restart ${where}
ExecStop=${cutover} down ${where}
Restart=on-failure
KillMode=process
TimeoutStartSec=120
TimeoutStopSec=150

[Install]
WantedBy=${target}

# cutover.socket
[Unit]
Description=listening sockets of the cutover apps in ${configPath}

[Socket]
${addresses.map((address) => `ListenStream=${address}`).join('\n')}
NoDelay=true
ReusePort=false

[Install]
WantedBy=sockets.target`);
}

/** A path as one word in a unit file (systemd's own quoting: double quotes, backslash escapes). */
function quote(word: string): string {
  return /^[\w./@:+-]+$/.test(word) ? word : `"${word.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
