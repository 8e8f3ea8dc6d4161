import { commandContext, type GlobalOptions } from '../context.js';
import { table } from '../output.js';
import { visible } from '../../util/terminal-text.js';
import { certPaths } from '../../certs/cert-paths.js';
import { readCertState } from '../../certs/cert-state-file.js';

const DAY_MS = 24 * 60 * 60_000;

/**
 * Lists the ACME certificates from `DATA_DIR/certs/state.json`: works with the daemon down, as
 * `logs` does. `--json` prints `{ directory, certificates: [...] }` (times in ms since the epoch).
 */
export async function certs(options: GlobalOptions & { json?: boolean }): Promise<void> {
  const { layout } = commandContext(options);
  const state = readCertState(certPaths(layout.root));
  if (options.json) {
    console.log(JSON.stringify({ directory: state.directory, certificates: state.certificates }, null, 2));
    return;
  }
  if (state.certificates.length === 0) {
    console.log('no ACME certificates (no app has tls: acme, or the daemon has not checked them yet)');
    return;
  }
  const now = Date.now();
  // Hosts and errors come from the config and the CA: shown, never obeyed by the terminal.
  const rows = state.certificates.map((r) => [
    visible(r.host),
    r.state,
    visible(r.issuer ?? '-'),
    r.notAfter === null ? '-' : `${when(r.notAfter)} (${days(r.notAfter - now)})`,
    r.nextAttempt === null ? (r.state === 'failed' ? 'never' : '-') : when(r.nextAttempt),
    visible(r.lastError ?? ''),
  ]);
  if (state.directory) console.log(`ACME directory: ${visible(state.directory)}\n`);
  console.log(table([['HOST', 'STATE', 'ISSUER', 'EXPIRES', 'NEXT ATTEMPT', 'LAST ERROR'], ...rows]));
}

function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

function days(ms: number): string {
  if (ms < 0) return 'expired';
  const count = Math.floor(ms / DAY_MS);
  return count === 0 ? 'today' : `in ${count} day${count === 1 ? '' : 's'}`;
}
