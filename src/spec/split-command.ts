import { parse, type ParseEntry } from 'shell-quote';
import { InputError } from '../errors.js';
import { describeValue } from './describe-value.js';

/** Thrown by {@link splitCommand}; the loader turns it into a config problem. */
export const COMMAND_INVALID = 'COMMAND_INVALID';

const EXAMPLE = 'e.g. command: [node, server.js]';
const SHELL_HINT = 'set shell: true to run it with /bin/sh -c, or write the command as a list without shell syntax';
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * Turns `run.command` into the argv cutover spawns. A string is split like a shell would split
 * it (quotes, escapes) but is not run by one, so shell syntax such as `|`, `&&`, `;`, `>` or
 * globs is refused unless `shell` is true. With `shell: true` the command is one string, later
 * run by `/bin/sh -c`. Variables such as `$PORT` are kept as `${PORT}`, to be filled in at spawn time.
 *
 * @example splitCommand('node server.js --port $PORT', false) // ['node', 'server.js', '--port', '${PORT}']
 * @example splitCommand('node a.js | tee log', true)          // ['node a.js | tee log']
 * @throws InputError with code `COMMAND_INVALID` and a hint.
 */
export function splitCommand(command: string | readonly string[], shell: boolean): string[] {
  if (shell) return shellCommand(command);
  if (typeof command !== 'string') {
    if (command.length === 0) throw invalid('the command is an empty list', `name the program to run and its arguments, ${EXAMPLE}`);
    if (command[0] === '') throw invalid('the program name (the first item of the command) is empty', EXAMPLE);
    return [...command];
  }

  const argv: string[] = [];
  for (const entry of parse(command, (name) => `\${${name}}`)) {
    const arg = argumentOf(entry, command);
    if (arg !== undefined) argv.push(arg);
  }
  if (argv.length === 0) throw invalid('the command is empty', `name the program to run and its arguments, ${EXAMPLE}`);
  const first = argv[0] ?? '';
  if (ASSIGNMENT.test(first)) {
    throw invalid(
      `the command starts with the variable assignment ${describeValue(first)}, which only a shell understands`,
      'set environment variables under run.env instead',
    );
  }
  if (argv.some((arg) => arg.includes('`'))) {
    throw invalid('the command uses `backticks`, which only a shell understands', SHELL_HINT);
  }
  return argv;
}

function argumentOf(entry: ParseEntry, command: string): string | undefined {
  if (typeof entry === 'string') return entry;
  if ('comment' in entry) return undefined;
  if ('pattern' in entry) {
    throw invalid(
      `${describeValue(entry.pattern)} is a glob, which only a shell expands`,
      'set shell: true to run the command with /bin/sh -c, or quote the pattern to pass it as is',
    );
  }
  throw invalid(`${describeValue(command)} uses the shell operator "${entry.op}", which only a shell understands`, SHELL_HINT);
}

function shellCommand(command: string | readonly string[]): string[] {
  if (typeof command !== 'string' && command.length > 1) {
    throw invalid(
      `with shell: true the command must be one string, got a list of ${command.length} items`,
      'write it as one string, e.g. command: "node server.js | tee app.log", or set shell: false',
    );
  }
  const script = typeof command === 'string' ? command : (command[0] ?? '');
  if (script.trim() === '') throw invalid('the command is empty', 'write the shell command as one string, e.g. command: "node server.js | tee app.log"');
  return [script];
}

function invalid(message: string, hint: string): InputError {
  return new InputError(COMMAND_INVALID, message, { hint });
}
