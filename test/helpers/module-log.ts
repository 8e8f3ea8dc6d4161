import fs from 'node:fs';
import { createRequire, register } from 'node:module';
import path from 'node:path';

/**
 * Loaded with `--import` (through NODE_OPTIONS, so in every Node process a test daemon starts):
 * each process writes what it loaded into the directory MODULE_LOG_DIR_ENV names. `PID.argv`
 * says which process it is; `PID.modules` lists ES modules as the loader hook sees them
 * (`module-log-hooks.ts`) and CommonJS modules (a package imported from ESM, or required inside one)
 * from require's cache, rewritten every 200 ms. Tests read the lists, never RSS.
 */
export const MODULE_LOG_DIR_ENV = 'CUTOVER_TEST_MODULE_LOG';

const dir = process.env[MODULE_LOG_DIR_ENV];
if (dir !== undefined && dir !== '') {
  fs.writeFileSync(path.join(dir, `${process.pid}.argv`), JSON.stringify(process.argv));
  register('./module-log-hooks.js', import.meta.url, { data: { file: path.join(dir, `${process.pid}.esm`) } });
  const cache = createRequire(import.meta.url).cache;
  let written = 0;
  const writeCommonJs = (): void => {
    const files = Object.keys(cache);
    if (files.length === written) return;
    written = files.length;
    fs.writeFileSync(path.join(dir, `${process.pid}.cjs`), files.join('\n') + '\n');
  };
  setInterval(writeCommonJs, 200).unref();
  process.on('exit', writeCommonJs);
}
