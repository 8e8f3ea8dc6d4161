import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { appNotFound } from '../../errors.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { runRemotely } from '../remote/run-remotely.js';
import { paint } from '../output.js';
import { visible } from '../../util/terminal-text.js';
import { textMasker } from '../../model/secrets.js';
import { readSecretValues } from '../../daemon/read-secret-values.js';

const FOLLOW_POLL_MS = 250;
/** How often the secret values to mask are read again while following (a deploy may add some). */
const SECRETS_REFRESH_MS = 2_000;

/**
 * Reads instance logs straight from the data dir: works with the daemon down too. Lines are
 * shown, never obeyed by the terminal (control characters written out), and the apps' secret
 * values in them are masked.
 */
export async function logs(app: string, options: GlobalOptions & { revision?: number; follow?: boolean }): Promise<void> {
  const { layout, remote } = commandContext(options);
  if (remote !== null) {
    // The logs are files on the server: read there.
    const flags = [...(options.revision === undefined ? [] : ['--revision', String(options.revision)]), ...(options.follow ? ['--follow'] : [])];
    process.exitCode = await runRemotely(remote, ['logs', app, ...flags]);
    return;
  }
  const dir = path.join(layout.logs, app);
  // The daemon may be down: the apps known are those with logs in the data dir.
  if (!fs.existsSync(dir)) throw appNotFound(app, fs.existsSync(layout.logs) ? fs.readdirSync(layout.logs).sort() : []);
  const offsets = new Map<string, number>();
  let mask = textMasker(readSecretValues(layout.database));
  let maskReadAt = performance.now();
  const pass = (): void => {
    if (performance.now() - maskReadAt > SECRETS_REFRESH_MS) {
      mask = textMasker(readSecretValues(layout.database));
      maskReadAt = performance.now();
    }
    for (const file of listLogFiles(dir, app, options.revision)) {
      const full = path.join(dir, file);
      const size = fs.statSync(full).size;
      let offset = offsets.get(full) ?? 0;
      if (size < offset) offset = 0; // truncated by the size cap
      if (size === offset) continue;
      const text = readRange(full, offset, size);
      offsets.set(full, size);
      const instance = file.slice(0, -'.log'.length);
      for (const line of text.split(/\r?\n/)) if (line) console.log(`${paint('dim', instance)} ${visible(mask(line))}`);
    }
  };
  pass();
  while (options.follow) {
    await sleep(FOLLOW_POLL_MS);
    pass();
  }
}

function listLogFiles(dir: string, app: string, revision: number | undefined): string[] {
  const prefix = revision === undefined ? `${app}-` : `${app}-${revision}-`;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log') && f.startsWith(prefix))
    .sort((a, b) => fs.statSync(path.join(dir, a)).mtimeMs - fs.statSync(path.join(dir, b)).mtimeMs);
}

function readRange(file: string, start: number, end: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    fs.readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
