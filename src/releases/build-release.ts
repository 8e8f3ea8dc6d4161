import fs from 'node:fs';
import type { ReleaseBuildStep } from '../model/app-spec.js';
import { runCommand, type RunningCommand } from '../runtime/local/run-command.js';

/** How often the build's log is read for new lines to stream. */
const STREAM_POLL_MS = 200;
/** Lines streamed per build at most (all of them stay in the log file). */
const MAX_STREAMED_LINES = 400;
const MAX_LINE_CHARS = 300;

export interface BuildRequest {
  dir: string;
  steps: readonly ReleaseBuildStep[];
  env: Record<string, string>;
  logPath: string;
  /** Each new output line, as it comes (capped). */
  onLine: (line: string) => void;
  /** The process group of the step now running, so a later controller can kill it. */
  onStarted: (pid: number | null, identity: string | null) => void;
}

export type BuildOutcome = { isOk: true; durationMs: number } | { isOk: false; durationMs: number; reason: string };

/**
 * Runs a release's build commands in order, in the release directory, each in its own process
 * group with its timeout (runCommand). Output goes to the app's log folder; new lines are handed
 * to `onLine` while it runs. The first failing step ends the build, its reason the last line.
 *
 * @example const outcome = await buildRelease({ dir, steps: [{ command: ['npm', 'ci'], timeoutMs: 600_000 }], env, logPath, onLine, onStarted });
 */
export async function buildRelease(request: BuildRequest): Promise<BuildOutcome> {
  const started = performance.now();
  const tail = logTail(request.logPath, request.onLine);
  try {
    for (const step of request.steps) {
      fs.appendFileSync(request.logPath, `$ ${step.command.join(' ')}\n`, { mode: 0o600 });
      const running: RunningCommand = runCommand({
        command: step.command,
        shell: false,
        cwd: request.dir,
        env: request.env,
        logPath: request.logPath,
        timeoutMs: step.timeoutMs,
      });
      request.onStarted(running.pid, running.identity);
      const outcome = await running.done;
      if (outcome.exitCode === 0) continue;
      tail.flush();
      const last = tail.lastLine();
      const what = outcome.spawnError
        ? `could not start: ${outcome.spawnError}`
        : outcome.isTimedOut
          ? `timed out after ${Math.round(step.timeoutMs / 1000)}s`
          : `exited with ${outcome.exitCode ?? outcome.signal}`;
      return { isOk: false, durationMs: performance.now() - started, reason: `build step "${step.command.join(' ')}" ${what}${last ? `: ${last}` : ''}` };
    }
    return { isOk: true, durationMs: performance.now() - started };
  } finally {
    tail.stop();
  }
}

/** Follows a log file from its current end, line by line. */
function logTail(logPath: string, onLine: (line: string) => void): { flush(): void; lastLine(): string | null; stop(): void } {
  let offset = fs.existsSync(logPath) ? fs.statSync(logPath).size : 0;
  let partial = '';
  let last: string | null = null;
  let streamed = 0;
  const flush = (): void => {
    if (!fs.existsSync(logPath)) return;
    const size = fs.statSync(logPath).size;
    if (size <= offset) return;
    const fd = fs.openSync(logPath, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(size - offset, 1 << 20));
      const read = fs.readSync(fd, buffer, 0, buffer.length, offset);
      offset += read;
      const lines = (partial + buffer.subarray(0, read).toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const trimmed = line.trimEnd().slice(0, MAX_LINE_CHARS);
        if (trimmed === '' || trimmed.startsWith('$ ')) continue;
        last = trimmed;
        if (streamed++ < MAX_STREAMED_LINES) onLine(trimmed);
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  const timer = setInterval(flush, STREAM_POLL_MS);
  return {
    flush,
    lastLine: () => (partial.trim() ? partial.trim().slice(0, MAX_LINE_CHARS) : last),
    stop: () => {
      clearInterval(timer);
      flush();
    },
  };
}
