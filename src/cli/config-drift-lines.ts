import fs from 'node:fs';
import { visible } from '../util/terminal-text.js';

/**
 * The daemon's "cutover.yaml differs from revision N" lines written since `offset`, without
 * their timestamps: `cutover up --detach` repeats them, since an app brought back at its stable
 * revision while the file says otherwise is something to know.
 */
export function configDriftLines(logFile: string, offset: number): string[] {
  let text: string;
  try {
    text = fs.readFileSync(logFile, 'utf8').slice(offset);
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.includes('cutover.yaml differs from revision'))
    .map((line) => visible(line.replace(/^\S+Z /, '')));
}
