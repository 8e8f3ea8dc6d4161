import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { CutoverError } from '../../errors.js';
import { resolveDataDir } from '../../daemon/data-dir.js';
import { remoteConfigPath, type RemoteSideOptions } from './dial-stdio.js';

/** Where uploads land in the data dir: one private directory each. */
export const UPLOADS_DIR_NAME = 'uploads';

/**
 * The server's side of an upload over SSH (`ssh HOST cutover receive-upload --dir DIR`): reads a
 * tar stream from stdin into a new private directory under the data dir's uploads/ (0700), and
 * prints `{"dir": …}` as its only output. Entries that would land outside it (absolute paths,
 * `..`, links out) fail the upload, and a failed upload leaves nothing behind.
 */
export async function receiveUpload(options: RemoteSideOptions): Promise<void> {
  const dataDir = resolveDataDir(remoteConfigPath(options), options.dataDir);
  const uploads = path.join(dataDir, UPLOADS_DIR_NAME);
  fs.mkdirSync(uploads, { recursive: true, mode: 0o700 });
  fs.chmodSync(uploads, 0o700);
  const dir = fs.mkdtempSync(path.join(uploads, 'upload-'));
  fs.chmodSync(dir, 0o700);
  try {
    await pipeline(process.stdin, tar.x({ cwd: dir, strict: true, preservePaths: false, preserveOwner: false, noMtime: false }));
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new CutoverError('UPLOAD_FAILED', `the upload was refused: ${(error as Error).message}`);
  }
  process.stdout.write(`${JSON.stringify({ dir })}\n`);
}
