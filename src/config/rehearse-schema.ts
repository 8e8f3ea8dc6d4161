import { z } from 'zod';
import { DEFAULT_REHEARSAL_METHOD } from './resolve-rehearse.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { headerMapSchema } from './request-match-schema.js';

/**
 * The `rehearse:` block of `cutover.yaml`: the requests `cutover rehearse` keeps sending to
 * every app while it deploys it. Only that command reads it; it makes no revision.
 */

export const REHEARSAL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export { DEFAULT_REHEARSAL_METHOD, DEFAULT_REHEARSAL_REQUEST } from './resolve-rehearse.js';
export const MAX_REHEARSAL_REQUESTS = 100;

/** Headers the load client sets itself: a value from the config would break its keep-alive connections. */
const CONNECTION_HEADERS = ['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-connection'];
/** An origin-form request target: a path, maybe with a query; printable ASCII without spaces. */
const REQUEST_PATH_PATTERN = /^\/[\x21-\x7e]*$/;
const REQUEST_EXAMPLE = `write - { method: POST, path: /orders, body: '{"item":1}', headers: { content-type: application/json } }`;

function problem(message: string, hint: string, input: unknown, path: PropertyKey[]) {
  return { code: 'custom' as const, message, params: { hint }, input, path };
}

const requestSchema = z
  .strictObject({
    method: z
      .enum(REHEARSAL_METHODS, { error: (iss) => `expected one of ${REHEARSAL_METHODS.join(', ')}, got ${describeValue(iss.input)}` })
      .meta({ description: 'The HTTP method.', default: DEFAULT_REHEARSAL_METHOD })
      .optional(),
    path: z
      .string()
      .regex(REQUEST_PATH_PATTERN, { error: (iss) => `expected a path starting with /, without spaces, got ${describeValue(iss.input)}` })
      .meta({ description: 'The path, with a query if any, e.g. /orders?limit=5.', examples: ['/', '/orders?limit=5'] }),
    body: z.string().meta({ description: 'The request body, sent as written (not with GET or HEAD).' }).optional(),
    headers: headerMapSchema().meta({ description: 'Request headers, e.g. content-type or authorization.' }).optional(),
  })
  .superRefine((request, ctx) => {
    const method = request.method ?? DEFAULT_REHEARSAL_METHOD;
    if (request.body !== undefined && (method === 'GET' || method === 'HEAD')) {
      ctx.addIssue(problem(`a ${method} request has no body`, 'remove body, or write method: POST (or PUT, PATCH)', request.body, ['body']));
    }
    for (const name of Object.keys(request.headers ?? {})) {
      if (CONNECTION_HEADERS.includes(name.toLowerCase())) {
        ctx.addIssue(
          problem(`the header "${name}" is set by the load client itself`, `remove it; the headers it sets are ${CONNECTION_HEADERS.join(', ')}`, name, [
            'headers',
            name,
          ]),
        );
      }
    }
  })
  .meta({ description: 'One request of the rehearsal load.' })
  .register(fieldHints, { expected: 'a request such as { method: POST, path: /orders }', hint: REQUEST_EXAMPLE });

export const rehearseSchema = z
  .strictObject({
    requests: z
      .array(requestSchema)
      .min(1, { error: 'requests is empty: list at least one request, or remove the key (GET /)' })
      .max(MAX_REHEARSAL_REQUESTS, { error: `at most ${MAX_REHEARSAL_REQUESTS} requests` })
      .meta({ description: 'The requests each load client sends in turn, to every app rehearsed. Default: GET /.' })
      .register(fieldHints, { expected: 'a list of requests', hint: REQUEST_EXAMPLE })
      .optional(),
  })
  .meta({ description: 'The load cutover rehearse keeps on the apps while it deploys them; nothing else reads it.' })
  .register(fieldHints, { expected: 'a mapping', hint: 'write rehearse: { requests: [{ method: GET, path: / }] }' });

export type RawRehearse = z.output<typeof rehearseSchema>;
