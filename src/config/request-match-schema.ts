import { z } from 'zod';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';

export const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
export const HEADER_VALUE_PATTERN = /^[\x20-\x7e]{1,4096}$/;
export const COOKIE_NAME_PATTERN = HEADER_NAME_PATTERN;
export const COOKIE_VALUE_PATTERN = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,4096}$/;

/** Request headers by name, as hooks and rehearsals send them: valid names, printable values. */
export function headerMapSchema() {
  return z.record(
    z.string().regex(HEADER_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid header name` }),
    z.string().regex(HEADER_VALUE_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid header value (printable ASCII, no line breaks)` }),
  );
}

export const headerMatchSchema = z
  .strictObject({
    name: z
      .string()
      .regex(HEADER_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid header name` })
      .meta({ description: 'The header name (any case).' }),
    value: z
      .string()
      .regex(HEADER_VALUE_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid header value (printable ASCII, no line breaks)` })
      .meta({ description: 'The exact value.' })
      .register(fieldHints, { expected: 'a string', hint: 'quote the value, e.g. value: "1"' }),
  })
  .meta({ description: 'Matches requests whose header `name` equals `value` exactly (the name is case-insensitive).' })
  .register(fieldHints, { hint: 'write header: { name: x-beta, value: "1" }' });

export const cookieMatchSchema = z
  .strictObject({
    name: z
      .string()
      .regex(COOKIE_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid cookie name` })
      .meta({ description: 'The cookie name.' }),
    value: z
      .string()
      .regex(COOKIE_VALUE_PATTERN, {
        error: (iss) => `${describeValue(iss.input)} is not a valid cookie value (no spaces, quotes, commas, semicolons or backslashes)`,
      })
      .meta({ description: 'The exact value.' })
      .register(fieldHints, { expected: 'a string', hint: 'quote the value, e.g. value: "yes"' }),
  })
  .meta({ description: 'Matches requests that carry cookie `name` with exactly `value`.' })
  .register(fieldHints, { hint: 'write cookie: { name: beta, value: "yes" }' });

export const routeSchema = z
  .union([z.strictObject({ header: headerMatchSchema }), z.strictObject({ cookie: cookieMatchSchema })])
  .meta({ description: 'A request that matches goes to the canary whatever the weight.' })
  .register(fieldHints, {
    expected: 'a header or cookie match',
    hint: 'write - header: { name: x-beta, value: "1" }  or  - cookie: { name: beta, value: "yes" }',
  });
