import fs from 'node:fs';
import { CutoverError } from '../errors.js';

/**
 * One daemon per data dir: a pid file created exclusively. A file left by a dead daemon is
 * taken over; one held by a live process is refused.
 */
export function acquireDaemonLock(pidFile: string, dataDir: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(pidFile, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => {
        try {
          if (readPid(pidFile) === process.pid) fs.unlinkSync(pidFile);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readPid(pidFile);
      if (holder !== null && holder !== process.pid && isAlive(holder)) {
        throw daemonAlreadyRunning(holder, dataDir);
      }
      fs.rmSync(pidFile, { force: true });
    }
  }
  throw new CutoverError('DAEMON_LOCK_FAILED', `could not take the daemon lock ${pidFile}`, {
    hint: 'Another daemon may be starting at the same moment; try again.',
  });
}

export function readPid(pidFile: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function daemonAlreadyRunning(pid: number, dataDir: string): CutoverError {
  return new CutoverError('DAEMON_ALREADY_RUNNING', `a cutover daemon (pid ${pid}) already runs for data dir ${dataDir}`, {
    hint: 'Use it (cutover status), stop it first (cutover down), or choose another --data-dir.',
  });
}
