import fs from 'node:fs';
import path from 'node:path';

/**
 * Finds a program a test needs from Debian (haproxy, slowhttptest…). Returns its path, or a
 * skip message naming the apt-get line. With CUTOVER_REQUIRE_EXTERNAL=1 (CI) a missing
 * program is an error instead, so a green CI never hides a skipped test.
 */
export function externalProgram(name: string, aptPackage = name): { path: string } | { skip: string } {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin'];
  return externalFile(name, dirs, `${name} is not installed (apt-get install -y ${aptPackage})`);
}

/**
 * The first executable `name` in `dirs`, or a skip with `missing` (an error under
 * CUTOVER_REQUIRE_EXTERNAL=1), for programs that are built rather than installed.
 */
export function externalFile(name: string, dirs: readonly string[], missing: string): { path: string } | { skip: string } {
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return { path: file };
    } catch {
      // Not here.
    }
  }
  if (process.env.CUTOVER_REQUIRE_EXTERNAL === '1') throw new Error(`${missing}, and CUTOVER_REQUIRE_EXTERNAL=1 requires it`);
  console.log(`# skipped: ${missing}`);
  return { skip: missing };
}
