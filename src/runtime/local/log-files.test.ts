import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogFiles } from './log-files.js';
import { readTimeMarks, timesPathOf } from './log-times.js';

describe('LogFiles', () => {
  it('keeps the last part of a log over its cap in .1 (a quarter of the cap, at most 64 KiB, is room for late writes) and truncates it in place, so the writer keeps appending', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-logs-'));
    const file = path.join(dir, 'web-1-a.log');
    const logs = new LogFiles(100);
    try {
      const writer = fs.openSync(file, 'a');
      fs.writeSync(writer, `${'a'.repeat(50)}${'b'.repeat(100)}`);
      logs.watch(file);
      logs.enforceCaps();
      assert.equal(fs.statSync(file).size, 0);
      assert.equal(fs.readFileSync(`${file}.1`, 'utf8'), 'b'.repeat(75));
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

  it('copies only the cap from a log that grew far past it (a flood between two checks)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-logs-'));
    const file = path.join(dir, 'web-1-a.log');
    const logs = new LogFiles(3 * 1024 * 1024);
    try {
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      const writer = fs.openSync(file, 'a');
      for (let i = 0; i < 20; i++) fs.writeSync(writer, chunk);
      fs.writeSync(writer, 'the last line\n');
      fs.closeSync(writer);
      logs.watch(file);
      logs.enforceCaps();
      assert.equal(fs.statSync(file).size, 0);
      const kept = fs.readFileSync(`${file}.1`);
      assert.equal(kept.length, 3 * 1024 * 1024 - 64 * 1024);
      assert.ok(kept.toString('latin1').endsWith('xthe last line\n'));
    } finally {
      logs.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops checking a quiet log on the timer, and checks it at once when it is written to again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-logs-'));
    const file = path.join(dir, 'web-1-a.log');
    const logs = new LogFiles(1024 * 1024);
    const writer = fs.openSync(file, 'a');
    try {
      fs.writeSync(writer, 'started\n');
      logs.watch(file);
      assert.equal(logs.checkedCount, 1, 'precondition: a new log is checked on the timer');
      const deadline = performance.now() + 5_000;
      while (logs.checkedCount > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(logs.checkedCount, 0, 'a log quiet for a second is left to the kernel to watch');
      const written = Date.now();
      fs.writeSync(writer, 'a line after a quiet while\n');
      const woken = performance.now() + 2_000;
      while (logs.checkedCount === 0 && performance.now() < woken) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(logs.checkedCount, 1, 'the write brought it back to the timer');
      const last = readTimeMarks(timesPathOf(file)).at(-1)!;
      assert.equal(last.offset, fs.statSync(file).size, 'its time mark covers the new line');
      assert.ok(last.ms - written < 200, `marked ${last.ms - written} ms after the write`);
    } finally {
      fs.closeSync(writer);
      logs.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
