import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import skipReporter, { describeSkips } from './skip-reporter.js';

async function* events() {
  yield {
    type: 'test:pass',
    data: { name: 'HAProxy suite', skip: 'haproxy is not installed', file: `${process.cwd()}/dist/test/h.js`, details: { type: 'suite' } },
  };
  yield { type: 'test:pass', data: { name: 'a test', file: `${process.cwd()}/dist/test/a.js` } };
  yield { type: 'test:pass', data: { name: 'one case', skip: true, file: `${process.cwd()}/dist/test/a.js` } };
}

describe('the skip reporter', () => {
  it('ends the run with one line naming every skipped suite and test and why (a skipped describe included)', async () => {
    const lines: string[] = [];
    const log = process.env.CUTOVER_SKIP_LOG;
    delete process.env.CUTOVER_SKIP_LOG; // These skips are made up: they stay out of npm test's summary.
    try {
      for await (const line of skipReporter(events())) lines.push(line);
    } finally {
      if (log !== undefined) process.env.CUTOVER_SKIP_LOG = log;
    }
    assert.deepEqual(lines, [
      'skipped: 1 suites, 1 tests: suite "HAProxy suite" (dist/test/h.js): haproxy is not installed; test "one case" (dist/test/a.js): no reason given\n',
    ]);
  });

  it('says so when nothing was skipped', () => {
    assert.equal(describeSkips([]), 'skipped: none');
  });
});
