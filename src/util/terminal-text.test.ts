import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { visible } from './terminal-text.js';

describe('visible (issue 22, finding 3)', () => {
  test('writes out every control character a terminal would act on, and keeps tab, newline and text', () => {
    assert.equal(visible('\u001b]0;pwned\u0007'), '\\x1b]0;pwned\\x07');
    assert.equal(visible('\u001b[2J\u001b[H'), '\\x1b[2J\\x1b[H');
    assert.equal(visible('\u001b]8;;http://evil.example\u001b\\click\u001b]8;;\u001b\\'), '\\x1b]8;;http://evil.example\\x1b\\click\\x1b]8;;\\x1b\\');
    assert.equal(visible('a\rb\bc\u007fd\u009b31me\u0085'), 'a\\x0db\\x08c\\x7fd\\x9b31me\\x85');
    assert.equal(visible('tab\tnew\nline, ünïcödé → ✓'), 'tab\tnew\nline, ünïcödé → ✓');
  });

  test('leaves no control character but tab and newline in any text', () => {
    let all = '';
    for (let code = 0; code < 0x200; code++) all += String.fromCharCode(code);
    const controls = [...visible(all)].filter(
      (c) => c !== '\t' && c !== '\n' && (c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) < 0xa0)),
    );
    assert.deepEqual(controls, []);
  });
});
