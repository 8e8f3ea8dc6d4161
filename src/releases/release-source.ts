import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type * as Tar from 'tar';
import { CutoverError } from '../errors.js';

/** Where a release's files come from, as `cutover deploy --from` names it (or the config's `release.from`). */
export type ReleaseSourceRequest = { kind: 'directory'; path: string } | { kind: 'file'; path: string } | { kind: 'commit'; ref: string };

/** A source ready to scan: a directory, and what to remove once the release is taken. */
export interface OpenedSource {
  root: string;
  /** For people: the directory, the file, or `git:REF`. */
  description: string;
  commit: string | null;
  close(): Promise<void>;
}

const TARBALL = /\.(tar\.gz|tgz)$/;
/** A ref git accepts, never an option: names, hashes, `HEAD~2`, `v1.2^{}`… */
const SAFE_REF = /^[A-Za-z0-9._/@^~{}-]{1,200}$/;

/**
 * Reads `--from`: `git:REF`, a `.tar.gz`/`.tgz` file, or a directory (relative to `cwd`).
 *
 * @example parseReleaseSource('git:v1.2', cwd) // { kind: 'commit', ref: 'v1.2' }
 */
export function parseReleaseSource(value: string, cwd: string): ReleaseSourceRequest {
  if (value.startsWith('git:')) {
    const ref = value.slice(4);
    if (!SAFE_REF.test(ref) || ref.startsWith('-') || ref.includes('..'))
      throw new CutoverError('BAD_RELEASE_SOURCE', `--from ${JSON.stringify(value)}: ${JSON.stringify(ref)} is not a git ref`, {
        hint: 'Write --from git:main, --from git:v1.2 or --from git:<commit>',
      });
    return { kind: 'commit', ref };
  }
  const absolute = path.resolve(cwd, value);
  return TARBALL.test(value) ? { kind: 'file', path: absolute } : { kind: 'directory', path: absolute };
}

/**
 * Opens a source: a directory as it is; a tarball or a git commit unpacked into `scratch` (a
 * directory of the data dir the caller removes with `close`). `configFrom` is the config's
 * `release.from`: with git, the same folder of the repository at that commit.
 */
export async function openReleaseSource(request: ReleaseSourceRequest, configFrom: string, scratch: string): Promise<OpenedSource> {
  if (request.kind === 'directory') {
    if (!fs.existsSync(request.path) || !fs.statSync(request.path).isDirectory())
      throw new CutoverError('BAD_RELEASE_SOURCE', `release source ${request.path} is not a directory`, {
        hint: 'Check release.from in cutover.yaml, or --from',
      });
    return { root: request.path, description: request.path, commit: null, close: async () => {} };
  }
  await fs.promises.mkdir(scratch, { recursive: true, mode: 0o700 });
  const close = (): Promise<void> => fs.promises.rm(scratch, { recursive: true, force: true });
  try {
    if (request.kind === 'file') {
      if (!fs.existsSync(request.path)) throw new CutoverError('BAD_RELEASE_SOURCE', `release file ${request.path} does not exist`);
      // Never absolute paths nor `..` (tar's defaults), never the archive's owners.
      const tar = await loadTar();
      await tar.x({ file: request.path, cwd: scratch, preserveOwner: false, strict: true });
      return { root: scratch, description: request.path, commit: null, close };
    }
    const { commit, treePath, top } = await resolveCommit(request.ref, configFrom);
    // From the repository's top: git refuses to archive from a directory it does not track.
    const tar = await loadTar();
    const git = spawn('git', ['archive', '--format=tar', `${commit}:${treePath}`], { cwd: top, stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr: Buffer[] = [];
    git.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const exited = new Promise<number | null>((resolve) => git.on('close', resolve));
    const unpacked = pipeline(git.stdout, tar.x({ cwd: scratch, preserveOwner: false })).catch((error: Error) => error);
    const [code, unpackError] = await Promise.all([exited, unpacked]);
    if (code !== 0) throw new CutoverError('BAD_RELEASE_SOURCE', `git archive ${commit}:${treePath} failed: ${Buffer.concat(stderr).toString().trim()}`);
    if (unpackError) throw unpackError;
    return { root: scratch, description: `git:${request.ref}`, commit, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The full commit a ref names, and the path of `from` inside its repository. */
async function resolveCommit(ref: string, from: string): Promise<{ commit: string; treePath: string; top: string }> {
  const top = await git(['rev-parse', '--show-toplevel'], from);
  const commit = await git(['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`], top);
  const treePath = path
    .relative(await fs.promises.realpath(top), await fs.promises.realpath(from))
    .split(path.sep)
    .join('/');
  return { commit, treePath: treePath === '' ? '' : `${treePath}/`, top };
}

function git(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (error) => reject(new CutoverError('BAD_RELEASE_SOURCE', `git could not run: ${error.message}`, { hint: 'Install git' })));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString().trim());
      else reject(new CutoverError('BAD_RELEASE_SOURCE', `git ${args[0]} in ${cwd} failed: ${Buffer.concat(err).toString().trim().split('\n')[0]}`));
    });
  });
}

/** tar loads with the first release taken from a tarball or a commit, not with every controller. */
function loadTar(): Promise<typeof Tar> {
  return import('tar');
}
