import { z } from 'zod';
import { InputError } from '../errors.js';
import { MAX_DURATION_MS, MAX_REPLICAS } from './defaults.js';
import { describeValue } from './describe-value.js';
import { fieldHints, type FieldHint } from './field-hints.js';
import { DURATION_PATTERN, formatDuration, parseDuration } from './parse-duration.js';
import { formatSize, parseSize, SIZE_PATTERN } from './parse-size.js';

/** Building blocks of the config schema: durations, sizes, counts and their problems, in words. */

export const PERCENT_PATTERN = /^(100|[1-9]?\d)%$/;

const DURATION_HINT: FieldHint = { expected: 'a duration such as 30s or 500ms', hint: 'write 30s or 500ms' };

export function issue(message: string, hint: string | undefined, input: unknown) {
  return { code: 'custom' as const, message, params: { hint }, input };
}

export function duration(description: string, options: { defaultMs: number; minMs?: number; maxMs?: number }) {
  const { defaultMs, minMs = 0, maxMs = MAX_DURATION_MS } = options;
  return z
    .string()
    .superRefine((text, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        ctx.addIssue(issue(error.message, error.hint, text));
        return;
      }
      if (ms < minMs) {
        ctx.addIssue(
          issue(
            `expected a duration of at least ${formatDuration(minMs)}, got ${describeValue(text)}`,
            `write ${formatDuration(defaultMs)}, for example`,
            text,
          ),
        );
      } else if (ms > maxMs) {
        ctx.addIssue(issue(`${describeValue(text)} is longer than the ${formatDuration(maxMs)} limit`, `write at most ${formatDuration(maxMs)}`, text));
      }
    })
    .meta({ description, default: formatDuration(defaultMs), pattern: DURATION_PATTERN })
    .register(fieldHints, DURATION_HINT);
}

export function integer(min: number, max: number) {
  return z
    .int()
    .min(min, { error: (iss) => `expected an integer ≥ ${min}, got ${describeValue(iss.input)}` })
    .max(max, { error: (iss) => `expected an integer ≤ ${max}, got ${describeValue(iss.input)}` });
}

export function countOrPercent(description: string, defaultValue: number) {
  return z
    .union([
      integer(0, MAX_REPLICAS),
      z.string().regex(PERCENT_PATTERN, { error: (iss) => `expected a whole percentage from 0% to 100%, got ${describeValue(iss.input)}` }),
    ])
    .meta({ description, default: defaultValue, examples: [1, '25%'] })
    .register(fieldHints, {
      expected: 'a count such as 1 or a percentage such as 25%',
      hint: 'write a number of instances, e.g. 1, or a share of replicas, e.g. 25%',
    });
}

export function size(description: string, options: { defaultBytes: number; minBytes?: number }) {
  const { defaultBytes, minBytes = 0 } = options;
  return z
    .union([z.int(), z.string().meta({ pattern: SIZE_PATTERN })])
    .superRefine((value, ctx) => {
      let bytes: number;
      try {
        bytes = parseSize(value);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        ctx.addIssue(issue(error.message, error.hint, value));
        return;
      }
      if (bytes < minBytes) {
        ctx.addIssue(
          issue(`expected a size of at least ${formatSize(minBytes)}, got ${describeValue(value)}`, `write ${formatSize(defaultBytes)}, for example`, value),
        );
      }
    })
    .meta({ description, default: formatSize(defaultBytes), examples: [formatSize(defaultBytes)] })
    .register(fieldHints, {
      expected: 'a size such as 16KiB or a number of bytes',
      hint: 'write a whole number of bytes or a size such as 16KiB, 10MiB or 1GiB',
    });
}

/** A YAML scalar that is used as a string: numbers and booleans are kept as written. */
export const scalar = () => z.union([z.string(), z.number(), z.boolean()]);
