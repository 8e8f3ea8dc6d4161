import type { ErrorCode, ForeignErrorCode, InputErrorCode } from './error-catalog.js';

/**
 * One base class for every error cutover raises on purpose. `code` is stable and never
 * renamed: scripts, the API and the CLI's exit codes depend on it; `error-catalog.ts` lists every
 * code with its HTTP status and exit code. `hint` says what to do next.
 */
export class CutoverError extends Error {
  readonly code: ErrorCode | ForeignErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode | ForeignErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'CutoverError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** Bad input from the user: config, flags, arguments. Its codes are those the catalog gives exit 2. */
export class InputError extends CutoverError {
  constructor(code: InputErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'InputError';
  }
}

/** The daemon could not be reached. The CLI exits 3. */
export class DaemonUnreachableError extends CutoverError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('DAEMON_UNREACHABLE', message, options);
    this.name = 'DaemonUnreachableError';
  }
}

/** A bug in cutover itself. */
export class InternalError extends CutoverError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('INTERNAL', message, { ...options, hint: 'This is a bug in cutover; please report it with the command you ran.' });
    this.name = 'InternalError';
  }
}

/**
 * The answer to a command about an app cutover does not know (exit 2 on the CLI, 404 over the
 * API): the name as given, and the names it does know, so a typo is seen at once.
 *
 * @example throw appNotFound('wbe', ['api', 'web']) // no app named "wbe" (known apps: api, web)
 */
export function appNotFound(app: string, known: readonly string[]): CutoverError {
  const names = known.length === 0 ? 'no apps yet' : `known apps: ${known.join(', ')}`;
  return new CutoverError('APP_NOT_FOUND', `no app named "${app}" (${names})`, {
    hint: known.length === 0 ? 'Deploy one with: cutover deploy' : 'Check the name with: cutover status',
  });
}
