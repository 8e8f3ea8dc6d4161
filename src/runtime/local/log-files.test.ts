import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogFiles } from './log-files.js';

describe('LogFiles', () => {
  it('moves a log over its cap to .1 and truncates it in place, so the writer keeps appending', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-logs-'));
    const file = path.join(dir, 'web-1-a.log');
    const logs = new LogFiles(100);
    try {
      const writer = fs.openSync(file, 'a');
      fs.writeSync(writer, 'x'.repeat(150));
      logs.watch(file);
      logs.enforceCaps();
      assert.equal(fs.statSync(file).size, 0);
      assert.equal(fs.readFileSync(`${file}.1`, 'utf8'), 'x'.repeat(150));
      fs.writeSync(writer, 'after\n');
      fs.closeSync(writer);
      assert.equal(fs.readFileSync(file, 'utf8'), 'after\n');

      logs.enforceCaps();
      assert.equal(fs.readFileSync(file, 'utf8'), 'after\n', 'a log under the cap is left alone');
    } finally {
      logs.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
