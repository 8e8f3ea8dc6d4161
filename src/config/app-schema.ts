import { z } from 'zod';
import { APP_NAME_PATTERN } from './name-patterns.js';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_REPLICAS,
  DEFAULT_STOP_TIMEOUT_MS,
  MAX_DRAIN_TIMEOUT_MS,
  DEFAULT_OUTLIER_CONSECUTIVE_FAILURES,
  DEFAULT_OUTLIER_EJECT_FOR_MS,
  MAX_OUTLIER_CONSECUTIVE_FAILURES,
  LONG_LIVED_DRAIN_MODES,
  DEFAULT_LONG_LIVED_DRAIN,
  MAX_REPLICAS,
  MAX_STOP_TIMEOUT_MS,
  MIN_REPLICAS,
} from './defaults.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { duration, integer } from './field-schemas.js';
import { listenSchema } from './listen-schema.js';
import { appTlsSchema, hostsSchema, pathsSchema } from './front-door-schema.js';
import { runSchema } from './run-schema.js';
import { healthSchema } from './health-schema.js';
import { analysisTemplatesSchema } from './analysis-schema.js';
import { strategySchema } from './strategy-schema.js';
import { hooksSchema } from './hooks-schema.js';
import { routerSchema } from './router-schema.js';
import { runtimeSchema } from './runtime-schema.js';
import { releaseSchema } from './release-schema.js';

export const outlierDetectionSchema = z
  .strictObject({
    consecutiveFailures: integer(0, MAX_OUTLIER_CONSECUTIVE_FAILURES)
      .meta({
        description:
          'Failed tries in a row (a 5xx answer, or a connection refused, reset or timed out) after which an instance is ejected; 0 turns ejection off.',
        default: DEFAULT_OUTLIER_CONSECUTIVE_FAILURES,
      })
      .register(fieldHints, { expected: 'a whole number', hint: 'write consecutiveFailures: 5, or 0 to turn ejection off' })
      .optional(),
    ejectFor: duration('How long an ejected instance stays out of the pool before it gets traffic again.', {
      defaultMs: DEFAULT_OUTLIER_EJECT_FOR_MS,
      minMs: 1,
    }).optional(),
  })
  .meta({
    description:
      "Passive outlier ejection in the built-in proxy: an instance failing too often in a row leaves the pool for a while; never more than half of a revision's instances, never the last one.",
  })
  .register(fieldHints, { expected: 'a mapping', hint: 'write outlierDetection: { consecutiveFailures: 5, ejectFor: 30s }' });

export const longLivedSchema = z
  .strictObject({
    drain: z
      .enum(LONG_LIVED_DRAIN_MODES)
      .meta({
        description:
          "wait: a leaving instance stays until its WebSockets and event streams end, up to timeout; close: they are ended at once. Either way cleanly: close frame 1001, the stream's last chunk.",
        default: DEFAULT_LONG_LIVED_DRAIN,
      })
      .register(fieldHints, { expected: 'wait or close', hint: 'write drain: wait or drain: close' })
      .optional(),
    timeout: duration('With drain: wait, how long they may stay open once their instance left the traffic plan. Default: drainTimeout.', {
      defaultMs: DEFAULT_DRAIN_TIMEOUT_MS,
      maxMs: MAX_DRAIN_TIMEOUT_MS,
    }).optional(),
  })
  .meta({ description: 'WebSocket and Server-Sent-Events connections of a leaving instance (built-in proxy); they count as in flight.' })
  .register(fieldHints, { expected: 'a mapping', hint: 'write longLived: { drain: wait, timeout: 5m }' });

export { APP_NAME_PATTERN } from './name-patterns.js';

export const appNameSchema = z
  .string()
  .regex(APP_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid app name` })
  .register(fieldHints, { hint: 'app names are 1 to 63 lowercase letters, digits and dashes, starting with a letter, e.g. web or api-v2' });

export const appSchema = z
  .strictObject({
    // Required for local apps (checkConfig says so); a kubernetes app runs its image, behind its Service.
    listen: listenSchema.optional(),
    hosts: hostsSchema.optional(),
    paths: pathsSchema.optional(),
    tls: appTlsSchema.optional(),
    run: runSchema.optional(),
    runtime: runtimeSchema.optional(),
    replicas: integer(MIN_REPLICAS, MAX_REPLICAS).meta({ description: 'Number of instances to keep running.', default: DEFAULT_REPLICAS }).optional(),
    health: healthSchema.optional(),
    drainTimeout: duration('How long an instance taken out of traffic may finish its requests before it is stopped.', {
      defaultMs: DEFAULT_DRAIN_TIMEOUT_MS,
      maxMs: MAX_DRAIN_TIMEOUT_MS,
    }).optional(),
    stopTimeout: duration('How long an instance may take to exit after SIGTERM before it gets SIGKILL.', {
      defaultMs: DEFAULT_STOP_TIMEOUT_MS,
      maxMs: MAX_STOP_TIMEOUT_MS,
    }).optional(),
    outlierDetection: outlierDetectionSchema.optional(),
    longLived: longLivedSchema.optional(),
    strategy: strategySchema.optional(),
    hooks: hooksSchema.optional(),
    router: routerSchema.optional(),
    analysis: analysisTemplatesSchema.optional(),
    release: releaseSchema.optional(),
  })
  .meta({ description: 'One service cutover keeps running.' });

export type RawApp = z.output<typeof appSchema>;
