import { z } from 'zod';
import { DEFAULT_METRICS_LISTEN } from './defaults.js';
import { fieldHints } from './field-hints.js';
import { listenSchema } from './listen-schema.js';
import { routerSchema } from './router-schema.js';
import { proxySchema } from './proxy-schema.js';
import { appSchema, appNameSchema } from './app-schema.js';
import { rehearseSchema } from './rehearse-schema.js';
import { metricsTokenSchema } from './run-env-schema.js';

/**
 * The raw shape of `cutover.yaml`, as written: durations as text, defaults not filled in. Every
 * object is strict, so an unknown key anywhere is a problem. Checks that span several keys (a
 * command and its `shell` flag, two apps on one address) live in `check-config.ts`; defaults are
 * applied by `resolve-config.ts`.
 */
export const configSchema = z
  .strictObject({
    proxy: proxySchema.optional(),
    router: routerSchema.optional(),
    metrics: z
      .union([
        z.literal(false),
        z.strictObject({
          listen: z
            .union([listenSchema, z.literal(false)])
            .meta({ description: `Where cutover serves Prometheus /metrics; false: nowhere. Default ${DEFAULT_METRICS_LISTEN}.` })
            .register(fieldHints, { expected: 'host:port or false', hint: `write listen: ${DEFAULT_METRICS_LISTEN}` })
            .optional(),
          token: metricsTokenSchema(fieldHints),
        }),
      ])
      .meta({ description: 'Prometheus metrics of cutover and its proxy; false: none (as listen: false).' })
      .optional(),
    rehearse: rehearseSchema.optional(),
    apps: z
      .record(appNameSchema, appSchema)
      .refine((apps) => Object.keys(apps).length > 0, {
        error: 'no apps are declared',
        params: { hint: 'declare at least one app, e.g. apps: { web: { listen: 8080, run: { command: [node, server.js] } } }' },
      })
      .meta({ description: 'The apps, by name.', minProperties: 1 })
      .register(fieldHints, {
        expected: 'a mapping of app names to apps',
        hint: 'declare at least one app, e.g. apps: { web: { listen: 8080, run: { command: [node, server.js] } } }',
      }),
  })
  .meta({ title: 'cutover.yaml', description: 'Configuration of cutover, the zero-downtime deploy tool.' })
  .register(fieldHints, { expected: 'a mapping with an apps key', hint: 'start the file with apps: and declare your apps under it' });

/** `cutover.yaml` as written, after validation and before defaults. */
export type RawConfig = z.output<typeof configSchema>;
