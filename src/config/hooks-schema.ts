import { z } from 'zod';
import { DEFAULT_SHELL, DEFAULT_HOOK_HTTP_METHOD, DEFAULT_HOOK_TIMEOUT_MS, MAX_HOOKS_PER_POINT } from './defaults.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { duration } from './field-schemas.js';
import { commandSchema } from './command-schema.js';
import { headerMapSchema } from './request-match-schema.js';

export const HOOK_HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
const HOOK_URL_PATTERN = /^(https?:\/\/|\$\{[A-Za-z_][A-Za-z0-9_]*\})\S*$/;
const HOOK_EXAMPLE = 'write - command: [./smoke.sh, "${PREVIEW_URL}"]  or  - http: { url: "http://127.0.0.1:9000/deployed" }';

export const hookHttpSchema = z
  .strictObject({
    url: z
      .string()
      .regex(HOOK_URL_PATTERN, { error: (iss) => `expected an http:// or https:// URL, got ${describeValue(iss.input)}` })
      .meta({ description: 'The URL to call; ${VAR}s of the hook environment are replaced, e.g. ${PREVIEW_URL}/smoke.' })
      .register(fieldHints, { expected: 'a URL', hint: 'write url: "http://127.0.0.1:9000/deployed"' }),
    method: z
      .enum(HOOK_HTTP_METHODS, { error: (iss) => `expected one of ${HOOK_HTTP_METHODS.join(', ')}, got ${describeValue(iss.input)}` })
      .meta({ description: 'The HTTP method.', default: DEFAULT_HOOK_HTTP_METHOD })
      .optional(),
    headers: headerMapSchema().meta({ description: 'Request headers; ${VAR}s are replaced in values.' }).optional(),
    body: z
      .string()
      .meta({ description: 'The request body; ${VAR}s are replaced. Default: a JSON summary of the rollout (none for GET and HEAD).' })
      .optional(),
  })
  .meta({ description: 'Call a URL; any 2xx answer passes.' });

export const hookSchema = z
  .strictObject({
    command: commandSchema.optional(),
    http: hookHttpSchema.optional(),
    shell: z
      .boolean()
      .meta({ description: 'Run the command, a single string, with /bin/sh -c.', default: DEFAULT_SHELL })
      .register(fieldHints, { expected: 'true or false', hint: 'write true or false; YAML reads yes, no, on and off as text' })
      .optional(),
    cwd: z.string().meta({ description: "Working directory of the command, relative to the config file's directory (the default)." }).optional(),
    timeout: duration('The hook fails after this long: its process group is killed, or its call cancelled.', {
      defaultMs: DEFAULT_HOOK_TIMEOUT_MS,
      minMs: 1,
    }).optional(),
    idempotent: z
      .boolean()
      .meta({ description: 'Safe to run again: a hook interrupted by a controller crash is run again; otherwise the rollout pauses.', default: false })
      .register(fieldHints, { expected: 'true or false', hint: 'write true or false' })
      .optional(),
  })
  .refine((hook) => (hook.command === undefined) !== (hook.http === undefined), {
    error: 'a hook has exactly one of command and http',
    params: { hint: HOOK_EXAMPLE },
  })
  .meta({ description: 'One hook: a command or an HTTP call.' })
  .register(fieldHints, { expected: 'a hook with a command or an http call', hint: HOOK_EXAMPLE });

function hookList(description: string) {
  return z
    .array(hookSchema)
    .max(MAX_HOOKS_PER_POINT, { error: `at most ${MAX_HOOKS_PER_POINT} hooks per point` })
    .meta({ description })
    .register(fieldHints, { expected: 'a list of hooks', hint: HOOK_EXAMPLE })
    .optional();
}

export const hooksSchema = z
  .strictObject({
    preDeploy: hookList('Before any new instance starts (a migration, say). A failure: the deploy does not start.'),
    preTraffic: hookList('New instances are ready and get no real traffic yet; PREVIEW_URL reaches them. A failure: rollback.'),
    postTraffic: hookList(
      'After each traffic change (a canary setWeight step and the final promotion, the blue-green switch, a rolling rollout once the new revision serves all). A failure: rollback.',
    ),
    onSuccess: hookList('After the rollout was promoted. A failure is logged.'),
    onFailure: hookList('After the rollout rolled back, failed or was aborted. A failure is logged.'),
  })
  .meta({ description: 'Commands or HTTP calls run at points of each rollout, once per point.' });
