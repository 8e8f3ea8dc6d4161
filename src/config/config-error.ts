import { InputError } from '../errors.js';

/** One thing wrong with a config, with where it is. */
export interface ConfigProblem {
  /** The config file as it was named, or `--set KEY=VALUE` for a problem in an override. */
  file: string;
  /** 1-based; 0 when the problem has no line (an override, an unreadable file). */
  line: number;
  /** 1-based; 0 when `line` is 0. */
  column: number;
  /** Dotted key path such as `apps.web.health.interval`; empty for the file as a whole. */
  path: string;
  message: string;
  hint?: string;
}

/**
 * The config could not be loaded. Lists every problem found, not just the first, one per line
 * as `FILE:LINE:COL  path: message`, each followed by its hint.
 */
export class ConfigError extends InputError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], options: { cause?: unknown } = {}) {
    super('CONFIG_INVALID', formatConfigProblems(problems), options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Formats problems the way {@link ConfigError} lists them in its message.
 *
 * @example
 * formatConfigProblems([{ file: 'cutover.yaml', line: 3, column: 15, path: 'apps.web.replicas',
 *   message: 'expected an integer ≥ 1, got -2' }])
 * // 'cutover.yaml:3:15  apps.web.replicas: expected an integer ≥ 1, got -2'
 */
export function formatConfigProblems(problems: readonly ConfigProblem[]): string {
  return problems.map(formatConfigProblem).join('\n');
}

function formatConfigProblem(problem: ConfigProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.column}` : problem.file;
  const what = problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
  return problem.hint === undefined ? `${where}  ${what}` : `${where}  ${what}\n  hint: ${problem.hint}`;
}
