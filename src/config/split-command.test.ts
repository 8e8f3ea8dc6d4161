import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../errors.js';
import { splitCommand } from './split-command.js';

function rejection(command: string | string[], shell = false): InputError {
  try {
    splitCommand(command, shell);
  } catch (error) {
    assert.ok(error instanceof InputError);
    assert.equal(error.code, 'COMMAND_INVALID');
    return error;
  }
  assert.fail(`splitCommand(${JSON.stringify(command)}) did not throw`);
}

describe('splitCommand', () => {
  it('uses a list as argv, unchanged', () => {
    assert.deepEqual(splitCommand(['node', 'server.js', 'a b'], false), ['node', 'server.js', 'a b']);
  });

  it('splits a string like a shell would: quotes and escapes group words', () => {
    assert.deepEqual(splitCommand(`node -e 'console.log(1 + 1)' "a b" c\\ d`, false), ['node', '-e', 'console.log(1 + 1)', 'a b', 'c d']);
  });

  it('keeps variables such as $PORT and ${PORT} for spawn time instead of expanding them', () => {
    assert.deepEqual(splitCommand('node server.js --port $PORT --host ${HOST}', false), ['node', 'server.js', '--port', '${PORT}', '--host', '${HOST}']);
  });

  it('drops a trailing comment, as a shell would', () => {
    assert.deepEqual(splitCommand('node server.js # the web app', false), ['node', 'server.js']);
  });

  it('refuses shell operators without shell: true and says to set it', () => {
    for (const command of ['node a.js | tee log', 'make && node a.js', 'a; b', 'node a.js > out.log', 'node a.js &', 'echo $(date)']) {
      const error = rejection(command);
      assert.match(error.message, /shell operator/, command);
      assert.match(error.hint ?? '', /shell: true/);
    }
  });

  it('refuses globs, backticks and leading variable assignments without shell: true', () => {
    assert.match(rejection('ls *.js').message, /glob/);
    assert.match(rejection('echo `date`').message, /backticks/);
    const assignment = rejection('NODE_ENV=production node a.js');
    assert.match(assignment.message, /variable assignment/);
    assert.match(assignment.hint ?? '', /run\.env/);
  });

  it('refuses an empty command, as a string, a list or a list with an empty program', () => {
    assert.match(rejection('').message, /empty/);
    assert.match(rejection('   ').message, /empty/);
    assert.match(rejection([]).message, /empty list/);
    assert.match(rejection(['', 'x']).message, /program name/);
  });

  it('with shell: true keeps the string whole, to be run by /bin/sh -c', () => {
    assert.deepEqual(splitCommand('node a.js | tee log', true), ['node a.js | tee log']);
    assert.deepEqual(splitCommand(['node a.js && echo done'], true), ['node a.js && echo done']);
  });

  it('with shell: true refuses a list of several items and an empty string', () => {
    assert.match(rejection(['node', 'a.js'], true).message, /one string/);
    assert.match(rejection('', true).message, /empty/);
    assert.match(rejection([], true).message, /empty/);
  });
});
