import { execFile, execFileSync } from 'node:child_process';
import type { ContainerEngine } from '../../model/app-spec.js';

export interface EngineResult {
  /** Null when the engine could not be run at all (see `error`) or was cut off by the timeout. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why the engine did not run: not installed, timed out. */
  error?: string;
}

const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/**
 * Runs the engine's CLI with an argv (never a shell: images, volumes and args come from the
 * config and are untrusted). `env` is the CLI's whole environment: a container's variable values
 * travel there, named by `-e NAME` in the argv, so they never show in the process table.
 */
export function runEngine(engine: ContainerEngine, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<EngineResult> {
  return new Promise((resolve) => {
    execFile(
      engine,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr });
        const failure = error as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        if (failure.code === 'ENOENT') return resolve({ code: null, stdout, stderr, error: `${engine} is not installed (not found on PATH)` });
        if (failure.killed) return resolve({ code: null, stdout, stderr, error: `${engine} ${args[0]} did not answer within ${options.timeoutMs} ms` });
        resolve({ code: typeof failure.code === 'number' ? failure.code : 1, stdout, stderr });
      },
    );
  });
}

/** The blocking form, for the few calls made while the controller adopts its instances at start. */
export function runEngineSync(engine: ContainerEngine, args: readonly string[], timeoutMs: number): EngineResult {
  try {
    const stdout = execFileSync(engine, args, { timeout: timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { status?: number | null; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') return { code: null, stdout: '', stderr: '', error: `${engine} is not installed (not found on PATH)` };
    return { code: failure.status ?? null, stdout: String(failure.stdout ?? ''), stderr: String(failure.stderr ?? '') };
  }
}

/** Longest engine message quoted in a reason or an error. */
const MAX_WORDS_CHARS = 600;

/**
 * What the engine said when it failed, for a person: its last non-empty lines of stderr (or the
 * reason it could not run), trimmed. Still untrusted text: terminals get it through `visible`.
 *
 * @example
 * engineWords({ code: 1, stdout: '', stderr: 'Error response from daemon: pull access denied\n' }); // 'Error response from daemon: pull access denied'
 */
export function engineWords(result: EngineResult): string {
  if (result.error) return result.error;
  const lines = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const text = lines.slice(-3).join(' / ') || `exit code ${result.code ?? '-'}, no message`;
  return text.length > MAX_WORDS_CHARS ? `…${text.slice(-MAX_WORDS_CHARS)}` : text;
}
