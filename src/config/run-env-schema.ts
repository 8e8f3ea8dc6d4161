import { z } from 'zod';
import { INHERITED_ENV_NAMES } from '../runtime/local/instance-env.js';
import type { FieldHint } from './field-hints.js';

/**
 * The keys of `run` about where environment values come from and who may see them: `envFile`,
 * `secrets`, `inheritEnv`. Built from config-schema.ts's own env-name schema and hint registry
 * (passed in: this file must not import that one's values, which import this one).
 */
export function runEnvKeys(envName: z.ZodType<string>, hints: z.core.$ZodRegistry<FieldHint>) {
  const names = (description: string, example: string) =>
    z
      .array(envName)
      .meta({ description, examples: [[example]] })
      .register(hints, { expected: 'a list of environment variable names', hint: `write a list, e.g. [${example}]` });
  return {
    envFile: z
      .string()
      .min(1)
      .meta({
        description:
          'A dotenv file (NAME=value lines, # comments), relative to the config file, read by cutover deploy (and up) when a revision is made. Its values are secret: shown as *** everywhere, kept only in the data dir.',
        examples: ['.env'],
      })
      .register(hints, { expected: 'a file name such as .env', hint: 'write envFile: .env' })
      .optional(),
    secrets: names(
      'Names in run.env whose values are secret: shown as *** by every command, route, event, report and log line. Values from envFile are secret anyway.',
      'DATABASE_URL',
    ).optional(),
    inheritEnv: names(
      `Names of cutover's own environment an instance gets too. Instances get a clean environment: run.env, envFile, PORT and CUTOVER_*, and from cutover's environment only ${INHERITED_ENV_NAMES.join(', ')} and LC_*, plus these.`,
      'NODE_OPTIONS',
    ).optional(),
  };
}

/** `metrics.token`: the bearer token `/metrics` asks for. */
export function metricsTokenSchema(hints: z.core.$ZodRegistry<FieldHint>) {
  return z
    .string()
    .min(16, { error: 'expected a token of at least 16 characters' })
    .regex(/^\S+$/, { error: 'expected a token without spaces' })
    .meta({
      description:
        'A bearer token Prometheus must send to read /metrics (authorization: { credentials: … } in its scrape config). ${NAME} takes it from the environment of cutover up. Default: none.',
      examples: ['${METRICS_TOKEN}'],
    })
    .register(hints, { expected: 'a token of at least 16 characters', hint: 'write token: ${METRICS_TOKEN} and set METRICS_TOKEN for cutover up' })
    .optional();
}
