import { z } from 'zod';
import { DEFAULT_ANALYSIS_INTERVAL_MS, DEFAULT_CONSECUTIVE_ERROR_LIMIT, DEFAULT_MIN_REQUESTS } from './defaults.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { duration, integer } from './field-schemas.js';

export const ANALYSIS_PROVIDERS = ['builtin', 'prometheus', 'command', 'http'] as const;
export const BUILTIN_METRICS = ['successRate', 'errorRate', 'latencyP50', 'latencyP95', 'latencyP99', 'requestRate'] as const;
const CONDITION_PATTERN = /^\s*(>=|<=|==|!=|>|<)\s*-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;
const CONDITION_HINT = 'write a comparison with a number, e.g. ">= 0.99" or "< 0.3"';
const TEMPLATE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const ANALYSIS_EXAMPLE = 'e.g. error-rate: { provider: builtin, metric: successRate, successCondition: ">= 0.99" }';

const conditionSchema = (description: string) =>
  z
    .string()
    .regex(CONDITION_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a condition` })
    .meta({ description })
    .register(fieldHints, { expected: 'a condition such as ">= 0.99"', hint: CONDITION_HINT });

export const analysisTemplateSchema = z
  .strictObject({
    provider: z
      .enum(ANALYSIS_PROVIDERS)
      .meta({
        description:
          "Where the value comes from: builtin (the proxy's own counts), prometheus (a PromQL query), command (argv: its exit code, or a JSON number on stdout), http (GET, a JSON path in the answer).",
      })
      .register(fieldHints, { expected: `one of ${ANALYSIS_PROVIDERS.join(', ')}`, hint: 'write provider: builtin, prometheus, command or http' }),
    metric: z
      .enum(BUILTIN_METRICS)
      .meta({ description: 'builtin: which value the proxy measures over each interval.' })
      .register(fieldHints, { expected: `one of ${BUILTIN_METRICS.join(', ')}`, hint: 'write metric: successRate' })
      .optional(),
    address: z
      .string()
      .regex(/^https?:\/\/\S+$/, { error: (iss) => `${describeValue(iss.input)} is not an http(s) URL` })
      .meta({ description: 'prometheus: the server, e.g. http://127.0.0.1:9090.' })
      .register(fieldHints, { expected: 'a URL', hint: 'write address: http://127.0.0.1:9090' })
      .optional(),
    query: z
      .string()
      .min(1)
      .meta({ description: 'prometheus: a PromQL query with a scalar or single-series answer; {{app}} and {{revision}} are replaced.' })
      .optional(),
    command: z
      .array(z.string().min(1))
      .min(1)
      .meta({
        description:
          'command: argv; without a condition, exit code 0 passes; with one, stdout is a JSON number compared with it. CUTOVER_APP and CUTOVER_REVISION are set.',
      })
      .register(fieldHints, { expected: 'a list of strings', hint: 'write command: [./check.sh, "{{revision}}"]' })
      .optional(),
    url: z
      .string()
      .regex(/^https?:\/\/\S+$/, { error: (iss) => `${describeValue(iss.input)} is not an http(s) URL` })
      .meta({ description: 'http: the URL to GET; {{app}} and {{revision}} are replaced.' })
      .register(fieldHints, { expected: 'a URL', hint: 'write url: "http://127.0.0.1:9000/score?revision={{revision}}"' })
      .optional(),
    jsonPath: z
      .string()
      .regex(/^[A-Za-z0-9_$.[\]-]*$/)
      .meta({ description: 'http: where the number is in the JSON answer, e.g. data.value or results[0].score; empty: the whole answer.' })
      .optional(),
    successCondition: conditionSchema('The value passes when this holds, e.g. ">= 0.99".').optional(),
    failureCondition: conditionSchema('The value fails when this holds, e.g. "> 0.01".').optional(),
    interval: duration('Time between measurements (and the window each builtin measurement covers).', {
      defaultMs: DEFAULT_ANALYSIS_INTERVAL_MS,
      minMs: 100,
    }).optional(),
    count: integer(1, 10_000).meta({ description: 'Measurements per run. Default 1 (a background canary analysis: until the rollout ends).' }).optional(),
    failureLimit: integer(0, 10_000).meta({ description: 'Failed measurements tolerated; one more and the run fails.', default: 0 }).optional(),
    consecutiveErrorLimit: integer(0, 10_000)
      .meta({
        description: 'Errors in a row (provider unreachable) tolerated; one more and the run is inconclusive.',
        default: DEFAULT_CONSECUTIVE_ERROR_LIMIT,
      })
      .optional(),
    inconclusiveLimit: integer(0, 10_000)
      .meta({ description: 'Inconclusive measurements (too few requests) tolerated; one more and the run is inconclusive.', default: 0 })
      .optional(),
    minRequests: integer(0, 1_000_000_000)
      .meta({ description: 'builtin: fewer canary requests in a window make the measurement inconclusive, not a pass.', default: DEFAULT_MIN_REQUESTS })
      .optional(),
    baseline: z
      .strictObject({
        maxRatio: z
          .number()
          .min(1)
          .max(1_000)
          .meta({ description: 'The canary may be this many times worse than stable (error rate, or latency) before it fails.' }),
      })
      .meta({
        description:
          'builtin: compare the canary with stable over the same window; fail only when the canary is worse than maxRatio × stable and the difference is statistically significant for the sample sizes.',
      })
      .optional(),
  })
  .superRefine((t, ctx) => {
    const need = (key: string, present: unknown, hint: string): void => {
      if (present === undefined) ctx.addIssue({ code: 'custom', message: `provider ${t.provider} needs ${key}`, params: { hint }, path: [key], input: t });
    };
    if (t.provider === 'builtin') need('metric', t.metric, 'write metric: successRate');
    if (t.provider === 'prometheus') {
      need('address', t.address, 'write address: http://127.0.0.1:9090');
      need('query', t.query, 'write query: sum(rate(...))');
    }
    if (t.provider === 'command') need('command', t.command, 'write command: [./check.sh]');
    if (t.provider === 'http') need('url', t.url, 'write url: "http://127.0.0.1:9000/score"');
    if (t.provider !== 'command' && t.successCondition === undefined && t.failureCondition === undefined && t.baseline === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'an analysis template needs successCondition, failureCondition or baseline',
        params: { hint: 'write successCondition: ">= 0.99"' },
        path: ['successCondition'],
        input: t,
      });
    }
    if (t.baseline !== undefined && t.provider !== 'builtin') {
      ctx.addIssue({
        code: 'custom',
        message: 'baseline works with provider builtin only',
        params: { hint: 'remove baseline, or use provider: builtin' },
        path: ['baseline'],
        input: t,
      });
    }
  })
  .meta({ description: 'One measurement, taken count times, judged against a condition.' })
  .register(fieldHints, { expected: 'an analysis template', hint: ANALYSIS_EXAMPLE });

export const analysisTemplatesSchema = z
  .record(z.string().regex(TEMPLATE_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid template name` }), analysisTemplateSchema)
  .meta({ description: 'Analysis templates by name, used by strategy steps and blocks.' })
  .register(fieldHints, { expected: 'a mapping of template names to templates', hint: ANALYSIS_EXAMPLE });

export const analysisUseSchema = (description: string) =>
  z
    .strictObject({
      templates: z
        .array(z.string().min(1))
        .min(1)
        .max(20)
        .meta({ description: "Names of templates under the app's analysis:, run together." })
        .register(fieldHints, { expected: 'a list of template names', hint: 'write templates: [error-rate]' }),
    })
    .meta({ description })
    .register(fieldHints, { expected: 'templates: [names]', hint: 'write { templates: [error-rate] }' });
