import { z } from 'zod';
import { DEFAULT_ACME_DIRECTORY, DEFAULT_HSTS_MAX_AGE_MS, DEFAULT_REDIRECT_HTTP } from './defaults.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { duration, issue } from './field-schemas.js';
import { listenSchema } from './listen-schema.js';
import { hostPatternProblem, pathPrefixProblem } from '../proxy/front-door/host-names.js';

/** The front door's part of `cutover.yaml`: `proxy.listen`, `proxy.tls`, and `hosts`, `paths`, `tls` of an app. */

export const proxyListenSchema = z
  .strictObject({
    http: listenSchema.meta({ description: 'The shared plain HTTP listener for apps with hosts, e.g. 0.0.0.0:80.' }).optional(),
    https: listenSchema.meta({ description: 'The shared TLS listener for apps with hosts (HTTP/2 and HTTP/1.1 by ALPN), e.g. 0.0.0.0:443.' }).optional(),
  })
  .meta({ description: 'The shared listeners (the front door), where apps are chosen by host and path.' })
  .register(fieldHints, { expected: 'a mapping', hint: 'write listen: { http: 0.0.0.0:80, https: 0.0.0.0:443 }' });

const hstsSchema = z
  .union([
    z.boolean(),
    z.strictObject({
      maxAge: duration('How long browsers must use HTTPS only.', {
        defaultMs: DEFAULT_HSTS_MAX_AGE_MS,
        minMs: 1_000,
        maxMs: 2 * DEFAULT_HSTS_MAX_AGE_MS,
      }).optional(),
      includeSubDomains: z.boolean().meta({ description: 'The policy covers subdomains too.', default: false }).optional(),
      preload: z.boolean().meta({ description: 'Adds the preload directive.', default: false }).optional(),
    }),
  ])
  .meta({ description: 'Strict-Transport-Security on TLS responses; off unless asked. true: max-age of one year.', default: false })
  .register(fieldHints, { expected: 'true, false or a mapping', hint: 'write hsts: true, or hsts: { maxAge: 8760h, includeSubDomains: true }' });

export const proxyTlsSchema = z
  .strictObject({
    acme: z
      .strictObject({
        email: z
          .string()
          .regex(/^[^\s@]+@[^\s@]+$/, { error: (iss) => `${describeValue(iss.input)} is not an email address` })
          .meta({ description: 'The ACME account contact.' })
          .register(fieldHints, { hint: 'write email: ops@example.com' }),
        directory: z
          .url({ protocol: /^https?$/, error: (iss) => `${describeValue(iss.input)} is not an http(s) URL` })
          .meta({ description: 'The ACME directory URL.', default: DEFAULT_ACME_DIRECTORY })
          .register(fieldHints, { hint: `write directory: ${DEFAULT_ACME_DIRECTORY}` })
          .optional(),
        caFile: z
          .string()
          .min(1)
          .meta({ description: "A PEM file to trust for a private ACME server's TLS certificate (relative to the config file)." })
          .optional(),
      })
      .meta({ description: 'Certificates by ACME (HTTP-01 on the shared HTTP listener) for apps with tls: acme.' })
      .register(fieldHints, { expected: 'a mapping', hint: 'write acme: { email: ops@example.com }' })
      .optional(),
    redirectHttp: z
      .boolean()
      .meta({ description: 'Plain requests for a host served over TLS get 308 to https (never /.well-known/acme-challenge/).', default: DEFAULT_REDIRECT_HTTP })
      .optional(),
    hsts: hstsSchema.optional(),
  })
  .meta({ description: 'TLS on the shared HTTPS listener.' })
  .register(fieldHints, { expected: 'a mapping', hint: 'write tls: { acme: { email: ops@example.com } }' });

export const hostsSchema = z
  .array(
    z.string().superRefine((text, ctx) => {
      const problem = hostPatternProblem(text);
      if (problem !== undefined) ctx.addIssue(issue(`${describeValue(text)} ${problem}`, 'write a host name such as example.com or *.example.com', text));
    }),
  )
  .min(1, { error: 'hosts is empty' })
  .meta({ description: 'Host names this app serves on the shared listeners (and SNI names for its certificate); *.example.com matches one more label.' })
  .register(fieldHints, { expected: 'a list of host names', hint: 'write hosts: [example.com, www.example.com]' });

export const pathsSchema = z
  .array(
    z.string().superRefine((text, ctx) => {
      const problem = pathPrefixProblem(text);
      if (problem !== undefined) ctx.addIssue(issue(`${describeValue(text)} ${problem}`, 'write a path prefix such as / or /api', text));
    }),
  )
  .min(1, { error: 'paths is empty' })
  .meta({ description: 'Path prefixes of this app on its hosts (whole segments); the longest match wins. Default [/].' })
  .register(fieldHints, { expected: 'a list of path prefixes', hint: 'write paths: [/api]' });

export const appTlsSchema = z
  .union([
    z.literal('acme'),
    z.literal(false),
    z.strictObject({
      cert: z.string().min(1).meta({ description: 'PEM certificate chain file (relative to the config file); watched and reloaded.' }),
      key: z.string().min(1).meta({ description: 'PEM private key file (relative to the config file); watched and reloaded.' }),
    }),
  ])
  .meta({
    description:
      "The app's certificate on the shared HTTPS listener: acme, { cert, key } files, or false (plain HTTP only). Default: acme when proxy.tls.acme is set, else false.",
  })
  .register(fieldHints, { expected: 'acme, false or { cert, key }', hint: 'write tls: acme, tls: { cert: ./site.pem, key: ./site.key }, or tls: false' });
