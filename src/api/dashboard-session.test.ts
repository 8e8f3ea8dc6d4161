import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { DashboardSessions, MAX_SESSIONS, SESSION_IDLE_MS, SESSION_TTL_MS } from './dashboard-session.js';

class FakeAnswer extends EventEmitter {
  isDestroyed = false;
  end(callback: () => void): void {
    callback();
  }
  destroy(): void {
    this.isDestroyed = true;
    this.emit('close');
  }
}

describe('dashboard sessions (issue 22)', () => {
  test('a session is valid until it is revoked; values are random and a forged one is refused', () => {
    const sessions = new DashboardSessions();
    const value = sessions.create();
    assert.match(value, /^[\w-]{43}$/);
    assert.notEqual(sessions.create(), value);
    assert.equal(sessions.isValid(value), true);
    assert.equal(sessions.isValid(`${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`), false);
    assert.equal(sessions.isValid(undefined), false);
    assert.equal(sessions.isValid([value]), false);
    sessions.revoke(value);
    assert.equal(sessions.isValid(value), false);
    sessions.close();
  });

  test('a session ends 12 hours after the login however much it is used, and after an hour unused', () => {
    let nowMs = 0;
    const sessions = new DashboardSessions(() => nowMs);
    const used = sessions.create();
    const unused = sessions.create();
    for (nowMs = 0; nowMs < SESSION_TTL_MS - 1000; nowMs += SESSION_IDLE_MS / 2) assert.equal(sessions.isValid(used), true, `at ${nowMs} ms`);
    assert.equal(sessions.isValid(unused), false);
    nowMs = SESSION_TTL_MS;
    assert.equal(sessions.isValid(used), false);
    sessions.close();
  });

  test('an open event stream keeps its session from going idle, and is cut when the session is revoked', () => {
    let nowMs = 0;
    const sessions = new DashboardSessions(() => nowMs);
    const value = sessions.create();
    const stream = new FakeAnswer();
    sessions.track(value, stream);
    nowMs = SESSION_IDLE_MS * 3;
    assert.equal(sessions.isValid(value), true);
    sessions.revoke(value);
    assert.equal(stream.isDestroyed, true);
    sessions.close();
  });

  test('beyond the most sessions kept, a login ends the oldest', () => {
    const sessions = new DashboardSessions();
    const first = sessions.create();
    for (let i = 0; i < MAX_SESSIONS; i++) sessions.create();
    assert.equal(sessions.isValid(first), false);
    sessions.close();
  });
});
