import { z } from 'zod';
import { configSchema } from './config-schema.js';

/**
 * The JSON Schema (draft 2020-12) of `cutover.yaml` as written, with a description on every key,
 * for editors. `npm run schema` writes it to `schema/cutover.schema.json`; a test fails when that
 * file is stale. Checks that JSON Schema cannot express (a command's shell syntax, two apps on one
 * address, reserved env names) are only done by the loader.
 *
 * @example writeFileSync('schema/cutover.schema.json', `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
 */
export function configJsonSchema(): object {
  return z.toJSONSchema(configSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'throw' });
}
