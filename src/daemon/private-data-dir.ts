import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';

/** Group and other permission bits: none of cutover's files and folders have them. */
const SHARED_BITS = 0o077;
/** Write permission for group or others: another user could plant or swap files. */
const SHARED_WRITE_BITS = 0o022;

/**
 * Refuses a data dir another user could tamper with: one owned by someone else (they chose
 * its admin token, they can swap its state), or writable by group or others. The data dir
 * holds environment values, secrets among them, and the admin token. Exit 2, with the fix.
 */
export function assertPrivateDataDir(root: string): void {
  const uid = process.getuid?.();
  const stat = fs.statSync(root);
  if (!stat.isDirectory()) {
    throw new InputError('DATA_DIR_UNSAFE', `the data dir ${root} is not a directory`, {
      hint: 'point --data-dir (or CUTOVER_DATA_DIR) at a directory cutover may create or own',
    });
  }
  if (uid !== undefined && stat.uid !== uid) {
    throw new InputError(
      'DATA_DIR_UNSAFE',
      `the data dir ${root} belongs to ${userLabel(stat.uid)}, not to ${userLabel(uid)} who runs cutover: its owner could read the apps' secrets and choose the admin token`,
      {
        hint: `use a data dir of your own (--data-dir or CUTOVER_DATA_DIR), or take this one over: chown ${uid} ${root} && chmod 700 ${root}`,
      },
    );
  }
  if ((stat.mode & SHARED_WRITE_BITS) !== 0) {
    throw new InputError(
      'DATA_DIR_UNSAFE',
      `the data dir ${root} can be written by other users (mode ${(stat.mode & 0o7777).toString(8)}): they could plant an admin token or swap the state`,
      {
        hint: `run chmod 700 ${root} (cutover makes its data dir with mode 700)`,
      },
    );
  }
}

/**
 * Takes group and other permissions off what cutover keeps in the data dir (files written by
 * earlier versions were readable by everyone): the state database and its journals, the logs,
 * the router's files. Other entries of the folder are left as they are. Files cutover creates
 * from now on are made 0600, folders 0700.
 */
export function tightenDataDir(root: string, entries: readonly string[]): void {
  for (const entry of entries) tighten(path.join(root, entry));
  for (const name of fs.readdirSync(root)) {
    if (name.startsWith('haproxy')) tighten(path.join(root, name));
  }
}

/** Creates `file` (empty) with mode 0600 when it is missing, so that whatever opens it later does not make it readable by others. */
export function createPrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', 0o600));
}

function tighten(target: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch {
    return; // Not there (yet).
  }
  if (stat.isSymbolicLink() || (process.getuid !== undefined && stat.uid !== process.getuid())) return;
  if ((stat.mode & SHARED_BITS) !== 0) fs.chmodSync(target, stat.mode & 0o7777 & ~SHARED_BITS);
  if (stat.isDirectory()) for (const name of fs.readdirSync(target)) tighten(path.join(target, name));
}

function userLabel(uid: number): string {
  try {
    const line = fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.split(':')[2] === String(uid));
    const name = line?.split(':')[0];
    if (name) return `user ${name} (uid ${uid})`;
  } catch {
    // No passwd file: the number alone.
  }
  return uid === process.getuid?.() ? `user ${os.userInfo().username} (uid ${uid})` : `uid ${uid}`;
}
