import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ProxyOptions } from '../../src/proxy/index.js';

/** A proxy child process (see proxy-child.ts) and what it wrote to stderr. */
export interface ProxyChild {
  readonly process: ChildProcess;
  readonly port: number;
  stderr(): string;
  /** SIGTERM, then SIGKILL by pid if it is not gone within 10 s; resolves with its exit code. */
  stop(): Promise<number | null>;
}

export async function startProxyChild(upstreamPort: number, options: Partial<ProxyOptions> = {}): Promise<ProxyChild> {
  const script = fileURLToPath(new URL('./proxy-child.js', import.meta.url));
  const child = spawn(process.execPath, [script, String(upstreamPort), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the proxy child exited with ${code} before listening: ${stderr}`)));
  });
  return {
    process: child,
    port,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return child.exitCode;
    },
  };
}
