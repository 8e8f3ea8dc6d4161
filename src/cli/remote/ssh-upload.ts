import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { CutoverError } from '../../errors.js';
import type { SshHost } from './ssh-host.js';
import { remoteCutover, spawnSsh, sshFailure } from './ssh-transport.js';

/**
 * Sends a file or directory to the target (a tar stream over ssh into a new private directory
 * under the remote data dir, made by `cutover receive-upload`) and answers its path there, for
 * a later command to name (`deploy --from`).
 *
 * @example
 * await uploadOverSsh(parseSshHost('ssh://deploy@web1/srv/shop'), 'build/release-42'); // '/srv/shop/.cutover/uploads/upload-Ab12Cd/release-42'
 */
export async function uploadOverSsh(target: SshHost, localPath: string): Promise<string> {
  const full = path.resolve(localPath);
  const stat = fs.statSync(full, { throwIfNoEntry: false });
  if (stat === undefined || !(stat.isFile() || stat.isDirectory())) {
    throw new CutoverError('UPLOAD_FAILED', `cannot upload ${localPath}: not a file or directory`);
  }
  const name = path.basename(full);
  const { child, stderr } = spawnSsh(target, remoteCutover(target, ['receive-upload']));
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const sent = pipeline(tar.c({ cwd: path.dirname(full), portable: true }, [name]), child.stdin!).catch((error: Error) => error);
  child.on('error', () => undefined);
  const [{ code, signal }, sendError] = await Promise.all([exited, sent]);
  if (code !== 0) throw new CutoverError('UPLOAD_FAILED', `cannot upload ${localPath}: ${sshFailure(code, signal, stderr())}`);
  if (sendError instanceof Error) throw new CutoverError('UPLOAD_FAILED', `cannot upload ${localPath}: ${sendError.message}`);
  let dir: unknown;
  try {
    dir = (JSON.parse(stdout) as { dir?: unknown }).dir;
  } catch {
    dir = undefined;
  }
  if (typeof dir !== 'string' || !path.posix.isAbsolute(dir))
    throw new CutoverError('UPLOAD_FAILED', `cannot upload ${localPath}: the remote side did not say where it put it`);
  return path.posix.join(dir, name);
}
