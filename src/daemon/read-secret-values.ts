import fs from 'node:fs';
import Database from 'better-sqlite3';
import { secretValuesOf } from '../model/secrets.js';
import type { AppSpec } from '../model/app-spec.js';

/**
 * The secret values of every revision in the state database, read without writing (the
 * daemon may run, or not): what `cutover logs` masks in the lines it prints. Empty when the
 * database is missing or cannot be read.
 */
export function readSecretValues(databasePath: string): string[] {
  if (!fs.existsSync(databasePath)) return [];
  let db: Database.Database | null = null;
  try {
    db = new Database(databasePath, { readonly: true, fileMustExist: true });
    const specs = db.prepare('SELECT spec FROM revisions').pluck().all() as string[];
    return specs.flatMap((text) => {
      const run = (JSON.parse(text) as Partial<AppSpec>).run;
      return run === undefined ? [] : secretValuesOf(run);
    });
  } catch {
    return [];
  } finally {
    db?.close();
  }
}
