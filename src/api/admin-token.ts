import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import { CutoverError, InputError } from '../errors.js';

/** File name of the admin API's bearer token in the data dir. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * Returns the bearer token of the TCP admin API, creating it (32 random bytes, base64url, mode
 * 0600) when the file does not exist. A token file others can read is refused: the token is a
 * password; so is one another user owns (they chose the token) or that is not a plain file.
 * The token is never logged, put in an error message or on a command line.
 */
export function ensureAdminToken(file: string): string {
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = fs.lstatSync(file);
  if (!stat.isFile()) {
    throw new InputError('ADMIN_TOKEN_NOT_OWNED', `the admin token file ${file} is not a plain file`, {
      hint: `delete it (rm ${file}); cutover up writes a new one`,
    });
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new InputError(
      'ADMIN_TOKEN_NOT_OWNED',
      `the admin token file ${file} belongs to uid ${stat.uid}, not to uid ${uid} who runs cutover: that user chose the token`,
      {
        hint: `delete it (rm ${file}); cutover up writes a new one`,
      },
    );
  }
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CutoverError('ADMIN_TOKEN_EXPOSED', `the admin token file ${file} can be read by other users (mode ${mode.toString(8)})`, {
      hint: `run chmod 600 ${file}`,
    });
  }
  const token = fs.readFileSync(file, 'utf8').trim();
  if (token.length < 16) {
    throw new CutoverError('ADMIN_TOKEN_INVALID', `the admin token in ${file} is shorter than 16 characters`, {
      hint: `delete ${file}; cutover up writes a new one`,
    });
  }
  return token;
}

/** Compares a presented bearer token with the expected one in constant time. */
export function isTokenValid(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer …` header, if that is what it holds. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  return match?.[1];
}
