import fs from 'node:fs';

/** The loader hooks of `module-log.ts` (they run on the loader's own thread): every ES module loaded, one URL a line. */
let file: string | undefined;

export function initialize(data: { file: string }): void {
  file = data.file;
}

export async function load(url: string, context: object, nextLoad: (url: string, context: object) => Promise<object>): Promise<object> {
  if (file !== undefined) fs.appendFileSync(file, `${url}\n`);
  return nextLoad(url, context);
}
