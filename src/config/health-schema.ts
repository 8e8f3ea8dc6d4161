import { z } from 'zod';
import {
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_PATH,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_HEALTHY_THRESHOLD,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DEFAULT_UNHEALTHY_THRESHOLD,
  MAX_THRESHOLD,
  MIN_THRESHOLD,
} from './defaults.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { duration, integer } from './field-schemas.js';

export const healthSchema = z
  .strictObject({
    path: z
      .string()
      .regex(/^\//, { error: (iss) => `expected a path starting with "/", got ${describeValue(iss.input)}` })
      .meta({ description: 'HTTP path the health check requests on each instance.', default: DEFAULT_HEALTH_PATH })
      .register(fieldHints, { hint: 'start the path with a slash, e.g. /healthz' })
      .optional(),
    interval: duration('Time between two checks of one instance.', { defaultMs: DEFAULT_HEALTH_INTERVAL_MS, minMs: 1 }).optional(),
    timeout: duration('How long one check may take; at most startupTimeout.', { defaultMs: DEFAULT_HEALTH_TIMEOUT_MS, minMs: 1 }).optional(),
    healthyThreshold: integer(MIN_THRESHOLD, MAX_THRESHOLD)
      .meta({ description: 'Checks in a row that must pass before an instance gets traffic.', default: DEFAULT_HEALTHY_THRESHOLD })
      .optional(),
    unhealthyThreshold: integer(MIN_THRESHOLD, MAX_THRESHOLD)
      .meta({ description: 'Checks in a row that must fail before an instance is taken out of traffic.', default: DEFAULT_UNHEALTHY_THRESHOLD })
      .optional(),
    startupTimeout: duration('How long a new instance may take to become healthy.', { defaultMs: DEFAULT_STARTUP_TIMEOUT_MS, minMs: 1 }).optional(),
  })
  .meta({ description: 'Health check of each instance.' });
