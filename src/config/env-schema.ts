import { z } from 'zod';
import { ENV_NAME_PATTERN } from './name-patterns.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { scalar } from './field-schemas.js';

export { ENV_NAME_PATTERN } from './name-patterns.js';
/** Environment variables cutover sets itself: `PORT` and any `CUTOVER_*`. */
export const RESERVED_ENV_NAME = 'PORT';
export const RESERVED_ENV_PREFIX = 'CUTOVER_';

export const envNameSchema = z
  .string()
  .regex(ENV_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid environment variable name` })
  .refine((name) => name !== RESERVED_ENV_NAME, {
    error: `"${RESERVED_ENV_NAME}" is reserved: cutover sets it to the port each instance must listen on`,
    params: { hint: `remove it, and have the app read ${RESERVED_ENV_NAME} (or pass \${${RESERVED_ENV_NAME}} in the command)` },
  })
  .refine((name) => !name.startsWith(RESERVED_ENV_PREFIX), {
    error: (iss) => `${describeValue(iss.input)} is reserved: cutover sets the ${RESERVED_ENV_PREFIX}* variables`,
    params: { hint: `rename it so it does not start with ${RESERVED_ENV_PREFIX}` },
  })
  .register(fieldHints, { hint: 'names are letters, digits and underscores, not starting with a digit, e.g. LOG_LEVEL' });

export const envSchema = z
  .record(
    envNameSchema,
    scalar()
      .meta({ description: 'A string; numbers and booleans are turned into strings as written.' })
      .register(fieldHints, { expected: 'a string', hint: 'quote the value, e.g. VERSION: "1"; lists and mappings are not allowed' }),
  )
  .meta({ description: `Environment variables of the app's processes. ${RESERVED_ENV_NAME} and ${RESERVED_ENV_PREFIX}* are reserved: cutover sets them.` });
