import fs from 'node:fs';
import Database from 'better-sqlite3';
import { CutoverError } from '../errors.js';

/** The state database is damaged. The daemon refuses to start and leaves the file as it is. */
export class StoreCorruptError extends CutoverError {
  constructor(path: string, detail: string) {
    super('STORE_CORRUPT', `the state database ${path} is corrupt: ${detail}`, {
      hint: `cutover left it untouched. Keep a copy, then try: sqlite3 ${path} ".recover" | sqlite3 recovered.db (see https://sqlite.org/recovery.html), or move it aside to start with an empty state (running apps are then not adopted).`,
    });
    this.name = 'StoreCorruptError';
  }
}

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/**
 * Checks the state database before the daemon uses it (`PRAGMA quick_check`). Reads only: no
 * pragma that writes, no migration. A missing file is fine (a first start).
 */
export function checkStore(path: string): void {
  if (!fs.existsSync(path)) return;
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { fileMustExist: true });
    const rows = db.prepare('PRAGMA quick_check').pluck().all() as string[];
    if (rows.length !== 1 || rows[0] !== 'ok') throw new StoreCorruptError(path, rows.slice(0, 3).join('; '));
  } catch (error) {
    if (error instanceof StoreCorruptError) throw error;
    const code = (error as { code?: string }).code ?? '';
    if (CORRUPT_CODES.has(code) || code.startsWith('SQLITE_CORRUPT')) throw new StoreCorruptError(path, (error as Error).message);
    throw error;
  } finally {
    db?.close();
  }
}
