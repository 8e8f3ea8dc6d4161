import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { appNotFound } from '../../errors.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { runRemotely } from '../remote/run-remotely.js';
import { paint } from '../output.js';
import { visible } from '../../util/terminal-text.js';
import { textMasker } from '../../model/secrets.js';
import { readSecretValues } from '../../daemon/read-secret-values.js';
import { readInstanceLogs } from '../../daemon/read-instance-logs.js';
import { readTimedLines, timesPathOf } from '../../runtime/local/log-times.js';
import { DEFAULT_LOG_TAIL, mergeLines, parseSince, parseTail, selectInstances, type LogLine } from '../log-selection.js';

const FOLLOW_POLL_MS = 250;
/** How often, while following, the instances (a rollout starts new ones) and the secret values to mask are read again. */
const REFRESH_MS = 1_000;

export interface LogsOptions extends GlobalOptions {
  revision?: number;
  follow?: boolean;
  tail?: string;
  since?: string;
  all?: boolean;
  json?: boolean;
}

/**
 * `cutover logs APP`: the live instances' lines merged in time order, each with its time and
 * instance. Reads the data dir only (the state database read-only, the log files and their time
 * marks), so it works with the daemon down. Lines are the apps' own and untrusted: secrets
 * masked, control characters written out (`--json` keeps them exact, as JSON strings).
 */
export async function logs(app: string, options: LogsOptions): Promise<void> {
  const { layout, remote } = commandContext(options);
  if (remote !== null) {
    // The logs are files on the server: read there, with the same flags.
    const flags = [
      ...(options.revision === undefined ? [] : ['--revision', String(options.revision)]),
      ...(options.tail === undefined ? [] : ['--tail', options.tail]),
      ...(options.since === undefined ? [] : ['--since', options.since]),
      ...(options.follow ? ['--follow'] : []),
      ...(options.all ? ['--all'] : []),
      ...(options.json ? ['--json'] : []),
    ];
    process.exitCode = await runRemotely(remote, ['logs', app, ...flags]);
    return;
  }
  const tail = options.tail === undefined ? DEFAULT_LOG_TAIL : parseTail(options.tail);
  const sinceMs = options.since === undefined ? undefined : parseSince(options.since, Date.now());
  const read = () => {
    const state = readInstanceLogs(layout.database, app);
    const known = [...new Set([...(state?.apps ?? []), ...(fs.existsSync(layout.logs) ? fs.readdirSync(layout.logs) : [])])].sort();
    if (!state || (!state.apps.includes(app) && state.instances.length === 0)) throw appNotFound(app, known);
    return state;
  };
  const choose = (): ReturnType<typeof selectInstances> => {
    const { instances, stableRevision } = read();
    return selectInstances(instances, { revision: options.revision, isAll: options.all, stableRevision });
  };
  const { chosen, isFallback } = choose();
  if (isFallback)
    console.error(`no instance of ${app} runs${options.revision ? ` revision ${options.revision}` : ''} (is the daemon down?): the last ones that ran`);
  let mask = textMasker(readSecretValues(layout.database));
  const print = (line: LogLine): void => {
    const text = mask(line.text);
    if (options.json) console.log(JSON.stringify({ time: new Date(line.timeMs).toISOString(), instance: line.instance, revision: line.revision, line: text }));
    else console.log(`${paint('dim', `${new Date(line.timeMs).toISOString()} ${line.instance}`)} ${visible(text)}`);
  };

  const offsets = new Map<string, number>();
  const now = Date.now();
  const history = chosen.map((instance) => {
    const main = readTimedLines(instance.logPath, { includePartial: !options.follow, unmarkedMs: lastWrite(instance.logPath, now) });
    offsets.set(instance.id, main.end);
    const needsOlder = main.lines.length < tail || (sinceMs !== undefined && (main.lines[0]?.timeMs ?? Infinity) > sinceMs);
    const rotated = `${instance.logPath}.1`;
    const older = needsOlder
      ? readTimedLines(rotated, { includePartial: true, unmarkedMs: lastWrite(rotated, now), timesPath: `${timesPathOf(instance.logPath)}.1` }).lines
      : [];
    return [...older, ...main.lines].map((l) => ({ timeMs: l.timeMs, instance: instance.id, revision: instance.revision, text: l.text }));
  });
  for (const line of mergeLines(history, { tail, sinceMs })) print(line);

  let followed = chosen;
  let refreshedAt = performance.now();
  while (options.follow) {
    await sleep(FOLLOW_POLL_MS);
    if (performance.now() - refreshedAt > REFRESH_MS) {
      refreshedAt = performance.now();
      mask = textMasker(readSecretValues(layout.database));
      // New instances (a rollout, a restart) join from their first line; ended ones are read to their end once more.
      const current = choose().chosen;
      followed = [...current, ...followed.filter((f) => !current.some((c) => c.id === f.id) && offsets.has(f.id))];
    }
    const batch = followed.map((instance) => {
      const start = offsets.get(instance.id) ?? 0;
      const size = fileSize(instance.logPath);
      const next = readTimedLines(instance.logPath, { start: size < start ? 0 : start, unmarkedMs: Date.now() });
      offsets.set(instance.id, next.end);
      return next.lines.map((l) => ({ timeMs: l.timeMs, instance: instance.id, revision: instance.revision, text: l.text }));
    });
    for (const line of mergeLines(batch, { tail: Infinity })) print(line);
  }
}

/** Lines written after the last time mark took at most until the file's last write. */
function lastWrite(file: string, fallbackMs: number): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return fallbackMs;
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
