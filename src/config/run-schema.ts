import { z } from 'zod';
import { DEFAULT_SHELL } from './defaults.js';
import { fieldHints } from './field-hints.js';
import { commandSchema, COMMAND_EXAMPLE } from './command-schema.js';
import { envNameSchema, envSchema } from './env-schema.js';
import { runEnvKeys } from './run-env-schema.js';

export const runSchema = z
  .strictObject({
    // Required for local apps (checkConfig says so); a container app may run its image's own command.
    command: commandSchema.optional(),
    shell: z
      .boolean()
      .meta({ description: 'Run the command, a single string, with /bin/sh -c.', default: DEFAULT_SHELL })
      .register(fieldHints, { expected: 'true or false', hint: 'write true or false; YAML reads yes, no, on and off as text' })
      .optional(),
    cwd: z.string().meta({ description: "Working directory, relative to the config file's directory (the default)." }).optional(),
    env: envSchema.optional(),
    ...runEnvKeys(envNameSchema, fieldHints),
  })
  .meta({ description: 'How to start one instance of the app.' })
  .register(fieldHints, { hint: `add run.command, the program to start, ${COMMAND_EXAMPLE}` });
