import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogFiles } from './log-files.js';
import { readTimedLines, readTimeMarks, timesPathOf } from './log-times.js';

describe('time marks beside instance logs', () => {
  it('give each line the time of the first look that saw it written; the log file stays as written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-times-'));
    const file = path.join(dir, 'web-1-a.log');
    let now = 1_000;
    const logs = new LogFiles(1024 * 1024, () => now);
    try {
      fs.writeFileSync(file, 'one\n');
      logs.watch(file);
      now = 2_000;
      fs.appendFileSync(file, 'two\nthree\n');
      logs.enforceCaps();
      now = 3_000;
      logs.enforceCaps(); // nothing new: no mark
      fs.appendFileSync(file, 'four');
      assert.equal(fs.readFileSync(file, 'utf8'), 'one\ntwo\nthree\nfour');
      assert.deepEqual(readTimeMarks(timesPathOf(file)), [
        { offset: 4, ms: 1_000 },
        { offset: 14, ms: 2_000 },
      ]);
      const complete = readTimedLines(file, { unmarkedMs: 9_000 });
      assert.deepEqual(
        complete.lines.map((l) => [l.text, l.timeMs]),
        [
          ['one', 1_000],
          ['two', 2_000],
          ['three', 2_000],
        ],
      );
      assert.equal(complete.end, 14, 'the unfinished last line is left for later');
      const withPartial = readTimedLines(file, { start: complete.end, includePartial: true, unmarkedMs: 9_000 });
      assert.deepEqual(
        withPartial.lines.map((l) => [l.text, l.timeMs]),
        [['four', 9_000]],
      );
    } finally {
      logs.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('follow the rotated tail into .1, and start over with the log', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-times-'));
    const file = path.join(dir, 'web-1-a.log');
    let now = 1_000;
    const logs = new LogFiles(100, () => now);
    try {
      fs.writeFileSync(file, '');
      logs.watch(file);
      now = 2_000;
      fs.appendFileSync(file, `${'x'.repeat(59)}\n${'y'.repeat(59)}\n`);
      logs.enforceCaps();
      assert.equal(fs.statSync(file).size, 0);
      const rotated = readTimedLines(`${file}.1`, { includePartial: true, unmarkedMs: 0, timesPath: `${timesPathOf(file)}.1` });
      assert.ok(rotated.lines.length > 0);
      assert.ok(
        rotated.lines.every((l) => l.timeMs === 2_000),
        JSON.stringify(rotated.lines),
      );
      assert.deepEqual(readTimeMarks(timesPathOf(file)), [{ offset: 0, ms: 2_000 }]);
    } finally {
      logs.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
