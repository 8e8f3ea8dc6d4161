import { z } from 'zod';
import {
  DEFAULT_HEADER_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_REQUEST_LINE_BYTES,
  DEFAULT_MIN_BODY_BYTES_PER_SECOND,
  MAX_CONNECTIONS,
  MAX_HEADER_COUNT,
  MAX_HEADER_TIMEOUT_MS,
} from './defaults.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { issue, duration, integer, size } from './field-schemas.js';
import { trustedProxyProblem } from '../proxy/trusted-proxies.js';
import { proxyListenSchema, proxyTlsSchema } from './front-door-schema.js';

const trustedProxySchema = z
  .string()
  .superRefine((text, ctx) => {
    const problem = trustedProxyProblem(text);
    if (problem !== undefined)
      ctx.addIssue(issue(`${describeValue(text)} ${problem}`, 'write an IP address such as 10.0.0.1 or a CIDR block such as 10.0.0.0/8', text));
  })
  .register(fieldHints, { expected: 'an IP address or CIDR block such as 10.0.0.0/8' });

export const proxySchema = z
  .strictObject({
    maxHeaderSize: size('Largest header section a client may send (all header lines); 431 above it.', {
      defaultBytes: DEFAULT_MAX_HEADER_BYTES,
      minBytes: 1024,
    }).optional(),
    maxRequestLineSize: size('Longest request line (method, target, version); 414 above it.', {
      defaultBytes: DEFAULT_MAX_REQUEST_LINE_BYTES,
      minBytes: 256,
    }).optional(),
    maxHeaderCount: integer(1, MAX_HEADER_COUNT)
      .meta({ description: 'Most header fields in one request; 431 above it.', default: DEFAULT_MAX_HEADER_COUNT })
      .optional(),
    maxBodySize: size('Largest request body; 413 above it. 0 means no limit.', { defaultBytes: DEFAULT_MAX_BODY_BYTES }).optional(),
    headerTimeout: duration('Time a client has to send its whole request head (slowloris guard); 408 after it.', {
      defaultMs: DEFAULT_HEADER_TIMEOUT_MS,
      minMs: 1,
      maxMs: MAX_HEADER_TIMEOUT_MS,
    }).optional(),
    minBodyRate: size('Slowest average request body rate, in bytes per second, checked after 10s (slow POST guard); 408 below it. 0 turns the check off.', {
      defaultBytes: DEFAULT_MIN_BODY_BYTES_PER_SECOND,
    }).optional(),
    maxConnections: integer(0, MAX_CONNECTIONS)
      .meta({ description: 'Open client connections per app and proxy worker; more are closed at once. 0 means no limit.', default: DEFAULT_MAX_CONNECTIONS })
      .optional(),
    trustedProxies: z
      .array(trustedProxySchema)
      .meta({
        description:
          'Addresses or CIDR blocks of proxies in front of cutover. Their X-Forwarded-For/-Proto/-Host are kept (the peer is appended); from anyone else they are replaced.',
        examples: [['127.0.0.1', '10.0.0.0/8']],
      })
      .optional(),
    listen: proxyListenSchema.optional(),
    tls: proxyTlsSchema.optional(),
  })
  .meta({ description: 'Limits of the built-in proxy, for every app. Read by cutover up; a change needs a restart of the daemon.' });

export type RawProxy = z.output<typeof proxySchema>;
