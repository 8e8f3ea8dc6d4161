import fs from 'node:fs';
import path from 'node:path';

/**
 * A node:test reporter that names what was skipped and why: node's own summary counts a skipped
 * `describe` as nothing ("skipped 0"), so a green run could hide whole suites. It ends the run's
 * output with one line, and appends each skip as a JSON line to $CUTOVER_SKIP_LOG when set, for
 * `print-skips.js` to sum up the several runs of `npm test`. Used beside the spec reporter.
 */
export interface SkipRecord {
  name: string;
  reason: string;
  file: string;
  kind: 'suite' | 'test';
}

interface ReporterEvent {
  type: string;
  data?: { name?: string; skip?: string | boolean; file?: string; details?: { type?: string } };
}

export default async function* skipReporter(source: AsyncIterable<ReporterEvent>): AsyncGenerator<string> {
  const skipped: SkipRecord[] = [];
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data?.skip === undefined || event.data.skip === false) continue;
    const { name = '?', skip, file = '', details } = event.data;
    skipped.push({
      name,
      reason: typeof skip === 'string' ? skip : 'no reason given',
      file: file ? path.relative(process.cwd(), file) : '',
      kind: details?.type === 'suite' ? 'suite' : 'test',
    });
  }
  const log = process.env.CUTOVER_SKIP_LOG;
  if (log) fs.appendFileSync(log, skipped.map((s) => `${JSON.stringify(s)}\n`).join(''));
  yield `${describeSkips(skipped)}\n`;
}

/** One line naming every skipped suite and test with its reason. */
export function describeSkips(skipped: readonly SkipRecord[]): string {
  if (skipped.length === 0) return 'skipped: none';
  const suites = skipped.filter((s) => s.kind === 'suite').length;
  const items = skipped.map((s) => `${s.kind} "${s.name}" (${s.file}): ${s.reason}`);
  return `skipped: ${suites} suites, ${skipped.length - suites} tests: ${items.join('; ')}`;
}
