import fs from 'node:fs';
import { describeSkips, type SkipRecord } from './skip-reporter.js';

/** The last line of `npm test`: every suite and test its runs skipped, and why (from skip-reporter's log). */
const log = process.argv[2];
const lines = log && fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
console.log(`npm test ${describeSkips(lines.map((line) => JSON.parse(line) as SkipRecord))}`);
