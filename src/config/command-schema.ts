import { z } from 'zod';
import { fieldHints } from './field-hints.js';
import { scalar } from './field-schemas.js';

export const COMMAND_EXAMPLE = 'e.g. command: [node, server.js]';

export const commandSchema = z
  .union([z.string().meta({ minLength: 1 }), z.array(scalar().register(fieldHints, { expected: 'a string' })).meta({ minItems: 1 })])
  .meta({
    description:
      'The program and its arguments. A list is used as argv; a string is split like a shell would split it but run without one (shell operators need shell: true). ${PORT} is replaced at spawn time.',
    examples: [['node', 'server.js'], 'node server.js --port $PORT'],
  })
  .register(fieldHints, { expected: 'a command such as [node, server.js] or "node server.js"', hint: COMMAND_EXAMPLE });
