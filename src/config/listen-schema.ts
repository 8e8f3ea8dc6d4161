import { z } from 'zod';
import { InputError } from '../errors.js';
import { DEFAULT_LISTEN_HOST } from './defaults.js';
import { fieldHints } from './field-hints.js';
import { issue, integer } from './field-schemas.js';
import { LISTEN_HINT, LISTEN_PATTERN, MAX_PORT, MIN_PORT, parseListen } from './parse-listen.js';

export const listenSchema = z
  .union([
    integer(MIN_PORT, MAX_PORT),
    z
      .string()
      .superRefine((text, ctx) => {
        try {
          parseListen(text);
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          ctx.addIssue(issue(error.message, error.hint, text));
        }
      })
      .meta({ pattern: LISTEN_PATTERN }),
  ])
  .meta({
    description: `Address the proxy listens on for this app: host:port, [ipv6]:port, or a port alone (host ${DEFAULT_LISTEN_HOST}).`,
    examples: ['127.0.0.1:8080', '[::1]:8080', 8080],
  })
  .register(fieldHints, { expected: 'an address such as 127.0.0.1:8080 or a port such as 8080', hint: LISTEN_HINT });
