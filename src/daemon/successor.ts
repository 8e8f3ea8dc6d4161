import fs from 'node:fs';
import { readJson, restartRequestFile, type RestartRequest } from './restart-files.js';
import { readPid } from './daemon-lock.js';

/** The pending `cutover restart` request, taken (removed) so that it runs once; undefined when none or unreadable. */
export function readRestartRequest(dataDir: string): RestartRequest | undefined {
  const file = restartRequestFile(dataDir);
  const request = readJson<RestartRequest>(file);
  fs.rmSync(file, { force: true });
  if (request === undefined || typeof request.id !== 'string' || typeof request.bin !== 'string' || !fs.existsSync(request.bin)) return undefined;
  return request;
}

/**
 * A restart's new primary takes the daemon lock from the one it replaces, once it serves: the
 * pid file names it from then on (`down`, `status` and `restart` reach it), and the old primary,
 * which removes the file only while it names itself, leaves it alone.
 */
export function takeOverDaemonLock(pidFile: string, previousPid: number): () => void {
  const holder = readPid(pidFile);
  if (holder !== null && holder !== previousPid && holder !== process.pid) {
    // Someone else holds it (it should not happen: the old daemon kept it until now); keep ours anyway, said in the log.
    console.log(`the daemon lock ${pidFile} named pid ${holder}, not ${previousPid}; taking it over`);
  }
  writePrivateJsonText(pidFile, `${process.pid}\n`);
  return () => {
    try {
      if (readPid(pidFile) === process.pid) fs.unlinkSync(pidFile);
    } catch {
      // Already gone.
    }
  };
}

function writePrivateJsonText(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  fs.renameSync(temporary, file);
}
