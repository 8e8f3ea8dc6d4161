import { z } from 'zod';
import { InputError } from '../errors.js';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
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
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_PATH,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_HEALTHY_THRESHOLD,
  DEFAULT_LISTEN_HOST,
  DEFAULT_MAX_SURGE,
  DEFAULT_MAX_UNAVAILABLE,
  DEFAULT_MIN_READY_MS,
  DEFAULT_PROGRESS_DEADLINE_MS,
  DEFAULT_REPLICAS,
  DEFAULT_SHELL,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  DEFAULT_UNHEALTHY_THRESHOLD,
  DEFAULT_HOOK_HTTP_METHOD,
  DEFAULT_HOOK_TIMEOUT_MS,
  MAX_HOOKS_PER_POINT,
  DEFAULT_ABORT_SCALE_DOWN_DELAY_MS,
  DEFAULT_CANARY_REPLICAS,
  DEFAULT_MIRROR_PERCENT,
  DEFAULT_PREVIEW_HEADER,
  DEFAULT_SCALE_DOWN_DELAY_MS,
  DEFAULT_STICKY_TTL_MS,
  DEFAULT_HAPROXY_BINARY,
  DEFAULT_HAPROXY_MODE,
  DEFAULT_HAPROXY_SERVERS,
  MAX_CANARY_STEPS,
  MAX_HAPROXY_SERVERS,
  MAX_DRAIN_TIMEOUT_MS,
  DEFAULT_OUTLIER_CONSECUTIVE_FAILURES,
  DEFAULT_OUTLIER_EJECT_FOR_MS,
  MAX_OUTLIER_CONSECUTIVE_FAILURES,
  LONG_LIVED_DRAIN_MODES,
  DEFAULT_LONG_LIVED_DRAIN,
  MAX_DURATION_MS,
  MAX_REPLICAS,
  MAX_STOP_TIMEOUT_MS,
  MAX_THRESHOLD,
  MIN_REPLICAS,
  MIN_THRESHOLD,
  DEFAULT_ANALYSIS_INTERVAL_MS,
  DEFAULT_CONSECUTIVE_ERROR_LIMIT,
  DEFAULT_MIN_REQUESTS,
  DEFAULT_METRICS_LISTEN,
} from './defaults.js';
import { describeValue } from './describe-value.js';
import { DURATION_PATTERN, formatDuration, parseDuration } from './parse-duration.js';
import { LISTEN_HINT, LISTEN_PATTERN, MAX_PORT, MIN_PORT, parseListen } from './parse-listen.js';
import { formatSize, parseSize, SIZE_PATTERN } from './parse-size.js';
import { trustedProxyProblem } from '../proxy/trusted-proxies.js';
import { metricsTokenSchema, runEnvKeys } from './run-env-schema.js';

/**
 * The raw shape of `cutover.yaml`, as written: durations as text, defaults not filled in. Every
 * object is strict, so an unknown key anywhere is a problem. Checks that span several keys (a
 * command and its `shell` flag, two apps on one address) live in `check-config.ts`; defaults are
 * applied by `resolve-config.ts`.
 */

/** What a field expects, in words, and what to do when it is wrong; read by `describe-issue.ts`. */
export interface FieldHint {
  /** Completes "expected …, got …" when the value has the wrong type. */
  expected?: string;
  hint?: string;
}

/** Hints attached to the schemas below, looked up by key path when a value is wrong. */
export const fieldHints = z.registry<FieldHint>();

export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Environment variables cutover sets itself: `PORT` and any `CUTOVER_*`. */
export const RESERVED_ENV_NAME = 'PORT';
export const RESERVED_ENV_PREFIX = 'CUTOVER_';
const PERCENT_PATTERN = /^(100|[1-9]?\d)%$/;

const DURATION_HINT: FieldHint = { expected: 'a duration such as 30s or 500ms', hint: 'write 30s or 500ms' };
const COMMAND_EXAMPLE = 'e.g. command: [node, server.js]';

function issue(message: string, hint: string | undefined, input: unknown) {
  return { code: 'custom' as const, message, params: { hint }, input };
}

function duration(description: string, options: { defaultMs: number; minMs?: number; maxMs?: number }) {
  const { defaultMs, minMs = 0, maxMs = MAX_DURATION_MS } = options;
  return z
    .string()
    .superRefine((text, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        ctx.addIssue(issue(error.message, error.hint, text));
        return;
      }
      if (ms < minMs) {
        ctx.addIssue(
          issue(
            `expected a duration of at least ${formatDuration(minMs)}, got ${describeValue(text)}`,
            `write ${formatDuration(defaultMs)}, for example`,
            text,
          ),
        );
      } else if (ms > maxMs) {
        ctx.addIssue(issue(`${describeValue(text)} is longer than the ${formatDuration(maxMs)} limit`, `write at most ${formatDuration(maxMs)}`, text));
      }
    })
    .meta({ description, default: formatDuration(defaultMs), pattern: DURATION_PATTERN })
    .register(fieldHints, DURATION_HINT);
}

function integer(min: number, max: number) {
  return z
    .int()
    .min(min, { error: (iss) => `expected an integer ≥ ${min}, got ${describeValue(iss.input)}` })
    .max(max, { error: (iss) => `expected an integer ≤ ${max}, got ${describeValue(iss.input)}` });
}

function countOrPercent(description: string, defaultValue: number) {
  return z
    .union([
      integer(0, MAX_REPLICAS),
      z.string().regex(PERCENT_PATTERN, { error: (iss) => `expected a whole percentage from 0% to 100%, got ${describeValue(iss.input)}` }),
    ])
    .meta({ description, default: defaultValue, examples: [1, '25%'] })
    .register(fieldHints, {
      expected: 'a count such as 1 or a percentage such as 25%',
      hint: 'write a number of instances, e.g. 1, or a share of replicas, e.g. 25%',
    });
}

function size(description: string, options: { defaultBytes: number; minBytes?: number }) {
  const { defaultBytes, minBytes = 0 } = options;
  return z
    .union([z.int(), z.string().meta({ pattern: SIZE_PATTERN })])
    .superRefine((value, ctx) => {
      let bytes: number;
      try {
        bytes = parseSize(value);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        ctx.addIssue(issue(error.message, error.hint, value));
        return;
      }
      if (bytes < minBytes) {
        ctx.addIssue(
          issue(`expected a size of at least ${formatSize(minBytes)}, got ${describeValue(value)}`, `write ${formatSize(defaultBytes)}, for example`, value),
        );
      }
    })
    .meta({ description, default: formatSize(defaultBytes), examples: [formatSize(defaultBytes)] })
    .register(fieldHints, {
      expected: 'a size such as 16KiB or a number of bytes',
      hint: 'write a whole number of bytes or a size such as 16KiB, 10MiB or 1GiB',
    });
}

/** A YAML scalar that is used as a string: numbers and booleans are kept as written. */
const scalar = () => z.union([z.string(), z.number(), z.boolean()]);

const listenSchema = z
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

const commandSchema = z
  .union([z.string().meta({ minLength: 1 }), z.array(scalar().register(fieldHints, { expected: 'a string' })).meta({ minItems: 1 })])
  .meta({
    description:
      'The program and its arguments. A list is used as argv; a string is split like a shell would split it but run without one (shell operators need shell: true). ${PORT} is replaced at spawn time.',
    examples: [['node', 'server.js'], 'node server.js --port $PORT'],
  })
  .register(fieldHints, { expected: 'a command such as [node, server.js] or "node server.js"', hint: COMMAND_EXAMPLE });

const envNameSchema = z
  .string()
  .regex(ENV_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid environment variable name` })
  .refine((name) => name !== RESERVED_ENV_NAME, {
    error: `"${RESERVED_ENV_NAME}" is reserved: cutover sets it to the port each instance must listen on`,
    params: { hint: `remove it, and have the app read ${RESERVED_ENV_NAME} (or pass \${${RESERVED_ENV_NAME}} in the command)` },
  })
  .refine((name) => !name.startsWith(RESERVED_ENV_PREFIX), {
    error: (iss) => `${describeValue(iss.input)} is reserved: cutover sets the ${RESERVED_ENV_PREFIX}* variables`,
    params: { hint: `rename it so it does not start with ${RESERVED_ENV_PREFIX}` },
  })
  .register(fieldHints, { hint: 'names are letters, digits and underscores, not starting with a digit, e.g. LOG_LEVEL' });

const envSchema = z
  .record(
    envNameSchema,
    scalar()
      .meta({ description: 'A string; numbers and booleans are turned into strings as written.' })
      .register(fieldHints, { expected: 'a string', hint: 'quote the value, e.g. VERSION: "1"; lists and mappings are not allowed' }),
  )
  .meta({ description: `Environment variables of the app's processes. ${RESERVED_ENV_NAME} and ${RESERVED_ENV_PREFIX}* are reserved: cutover sets them.` });

const runSchema = z
  .strictObject({
    command: commandSchema,
    shell: z
      .boolean()
      .meta({ description: 'Run the command, a single string, with /bin/sh -c.', default: DEFAULT_SHELL })
      .register(fieldHints, { expected: 'true or false', hint: 'write true or false; YAML reads yes, no, on and off as text' })
      .optional(),
    cwd: z.string().meta({ description: "Working directory, relative to the config file's directory (the default)." }).optional(),
    env: envSchema.optional(),
    ...runEnvKeys(envNameSchema, fieldHints),
  })
  .meta({ description: 'How to start one instance of the app.' })
  .register(fieldHints, { hint: `add run.command, the program to start, ${COMMAND_EXAMPLE}` });

const healthSchema = z
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

const analysisTemplateSchema = z
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

const analysisTemplatesSchema = z
  .record(z.string().regex(TEMPLATE_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid template name` }), analysisTemplateSchema)
  .meta({ description: 'Analysis templates by name, used by strategy steps and blocks.' })
  .register(fieldHints, { expected: 'a mapping of template names to templates', hint: ANALYSIS_EXAMPLE });

const analysisUseSchema = (description: string) =>
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

const rollingSchema = z
  .strictObject({
    maxSurge: countOrPercent('Instances that may run above replicas during a rollout: a count, or a percentage of replicas.', DEFAULT_MAX_SURGE).optional(),
    maxUnavailable: countOrPercent(
      'Instances that may be missing below replicas during a rollout: a count, or a percentage of replicas.',
      DEFAULT_MAX_UNAVAILABLE,
    ).optional(),
    minReady: duration('How long a new instance must stay healthy before it counts as available.', { defaultMs: DEFAULT_MIN_READY_MS }).optional(),
    progressDeadline: duration('A rollout that makes no progress for this long fails.', { defaultMs: DEFAULT_PROGRESS_DEADLINE_MS, minMs: 1 }).optional(),
    analysis: analysisUseSchema(
      'Analysis after each batch of maxSurge + maxUnavailable new instances (the next batch waits for it), and once the new revision serves alone; failed: rollback.',
    ).optional(),
  })
  .meta({ description: 'Replace instances a few at a time.' });

const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const HEADER_VALUE_PATTERN = /^[\x20-\x7e]{1,4096}$/;
const COOKIE_NAME_PATTERN = HEADER_NAME_PATTERN;
const COOKIE_VALUE_PATTERN = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,4096}$/;

const headerMatchSchema = z
  .strictObject({
    name: z
      .string()
      .regex(HEADER_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid header name` })
      .meta({ description: 'The header name (any case).' }),
    value: z
      .string()
      .regex(HEADER_VALUE_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid header value (printable ASCII, no line breaks)` })
      .meta({ description: 'The exact value.' })
      .register(fieldHints, { expected: 'a string', hint: 'quote the value, e.g. value: "1"' }),
  })
  .meta({ description: 'Matches requests whose header `name` equals `value` exactly (the name is case-insensitive).' })
  .register(fieldHints, { hint: 'write header: { name: x-beta, value: "1" }' });

const cookieMatchSchema = z
  .strictObject({
    name: z
      .string()
      .regex(COOKIE_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid cookie name` })
      .meta({ description: 'The cookie name.' }),
    value: z
      .string()
      .regex(COOKIE_VALUE_PATTERN, {
        error: (iss) => `${describeValue(iss.input)} is not a valid cookie value (no spaces, quotes, commas, semicolons or backslashes)`,
      })
      .meta({ description: 'The exact value.' })
      .register(fieldHints, { expected: 'a string', hint: 'quote the value, e.g. value: "yes"' }),
  })
  .meta({ description: 'Matches requests that carry cookie `name` with exactly `value`.' })
  .register(fieldHints, { hint: 'write cookie: { name: beta, value: "yes" }' });

const routeSchema = z
  .union([z.strictObject({ header: headerMatchSchema }), z.strictObject({ cookie: cookieMatchSchema })])
  .meta({ description: 'A request that matches goes to the canary whatever the weight.' })
  .register(fieldHints, {
    expected: 'a header or cookie match',
    hint: 'write - header: { name: x-beta, value: "1" }  or  - cookie: { name: beta, value: "yes" }',
  });

const replicasSchema = (description: string) => integer(MIN_REPLICAS, MAX_REPLICAS).meta({ description });

const progressDeadline = () =>
  duration('A rollout that makes no progress for this long (waiting at a gate aside) rolls back.', {
    defaultMs: DEFAULT_PROGRESS_DEADLINE_MS,
    minMs: 1,
  }).optional();

const blueGreenSchema = z
  .strictObject({
    preview: z
      .strictObject({
        header: headerMatchSchema.optional(),
        listen: listenSchema.optional(),
      })
      .refine((preview) => preview.header !== undefined || preview.listen !== undefined, {
        error: 'preview names neither a header nor a listen address',
        params: { hint: 'write preview: { header: { name: x-cutover-preview, value: "1" } } or preview: { listen: 127.0.0.1:8081 }' },
      })
      .meta({
        description: `How to reach green before the switch. Default: the header ${DEFAULT_PREVIEW_HEADER.name}: ${DEFAULT_PREVIEW_HEADER.value} on the app's address.`,
      })
      .optional(),
    autoPromote: z
      .union([z.literal(false), duration('Promote by itself after green has been ready this long.', { defaultMs: 0 })])
      .meta({
        description: 'false (the default): wait for cutover promote. A duration: promote by itself after green has been ready this long.',
        default: false,
      })
      .register(fieldHints, { expected: 'false or a duration such as 30s', hint: 'write autoPromote: false, or a duration such as 30s' })
      .optional(),
    scaleDownDelay: duration('Blue stays up, out of traffic, this long after the switch; a rollback inside it is a routing change only.', {
      defaultMs: DEFAULT_SCALE_DOWN_DELAY_MS,
    }).optional(),
    abortScaleDownDelay: duration('Green stays up this long after an abort.', { defaultMs: DEFAULT_ABORT_SCALE_DOWN_DELAY_MS }).optional(),
    previewReplicas: replicasSchema("Green's size before the switch (default: replicas); it grows to replicas before it takes traffic.").optional(),
    prePromotionAnalysis: analysisUseSchema('Analysis of green (preview traffic) before the switch; failed: abort, blue keeps serving.').optional(),
    postPromotionAnalysis: analysisUseSchema('Analysis after the switch, while blue is still up; failed: rollback to blue.').optional(),
    progressDeadline: progressDeadline(),
  })
  .meta({ description: 'Start the new revision beside the old one, let it answer preview traffic, then switch all traffic at once.' });

const STEP_HINT = 'write - setWeight: 10, - pause: 30s, - pause: {}, - setCanaryScale: 2 or - analysis: { templates: [error-rate] }';

// One object with three optional keys rather than a union: a wrong value is then reported at its own key.
const canaryStepSchema = z
  .strictObject({
    setWeight: integer(0, 100)
      .meta({ description: 'Percent of traffic the canary gets.' })
      .register(fieldHints, { hint: 'write a whole percentage from 0 to 100, e.g. setWeight: 10' })
      .optional(),
    pause: z
      .union([duration('Wait this long.', { defaultMs: 30_000 }), z.strictObject({}).meta({ description: 'A manual gate: wait for cutover promote.' })])
      .meta({ description: 'Wait: a duration, or {} for a manual gate (until cutover promote).' })
      .register(fieldHints, { expected: 'a duration such as 30s, or {} to wait for cutover promote', hint: 'write pause: 30s, or pause: {} for a manual gate' })
      .optional(),
    setCanaryScale: z
      .union([integer(0, MAX_REPLICAS), z.string().regex(PERCENT_PATTERN), z.literal('auto')])
      .meta({ description: 'Canary instances, a count or a percentage of replicas, without changing the weight; auto: back to canaryReplicas.' })
      .register(fieldHints, {
        expected: 'a count such as 2, a percentage such as 50%, or auto',
        hint: 'write setCanaryScale: 2, setCanaryScale: 50%, or setCanaryScale: auto',
      })
      .optional(),
    analysis: analysisUseSchema('Run these analysis templates at the current weight; the step is done once they pass.').optional(),
  })
  .refine((step) => Object.keys(step).length === 1, {
    error: 'a step has exactly one of setWeight, pause, setCanaryScale and analysis',
    params: { hint: STEP_HINT },
  })
  .meta({ description: 'One step: setWeight, pause, setCanaryScale or analysis.' })
  .register(fieldHints, { expected: 'a step: setWeight, pause, setCanaryScale or analysis', hint: STEP_HINT });

const canarySchema = z
  .strictObject({
    steps: z
      .array(canaryStepSchema)
      .max(MAX_CANARY_STEPS, { error: `at most ${MAX_CANARY_STEPS} steps` })
      .meta({ description: 'What happens, in order; after the last step the canary takes all traffic. Default: setWeight 20, then wait for cutover promote.' })
      .optional(),
    canaryReplicas: z
      .union([z.literal('auto'), integer(MIN_REPLICAS, MAX_REPLICAS)])
      .meta({ description: 'auto: scale the canary with its weight (at least 1 instance); or a fixed count.', default: DEFAULT_CANARY_REPLICAS })
      .register(fieldHints, { expected: 'auto or a count', hint: 'write canaryReplicas: auto, or a count such as 1' })
      .optional(),
    sticky: z
      .strictObject({
        cookie: z
          .string()
          .regex(COOKIE_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid cookie name` })
          .meta({ description: 'The cookie that keeps a client on its side.' }),
        ttl: duration("The cookie's lifetime.", { defaultMs: DEFAULT_STICKY_TTL_MS, minMs: 1_000 }).optional(),
      })
      .meta({
        description: 'Keep each client on one side: a cookie value is hashed against the weight, so a client stays put while the weight does not shrink.',
      })
      .optional(),
    routes: z.array(routeSchema).max(100).meta({ description: 'Requests that always go to the canary while it runs (A/B).' }).optional(),
    mirror: z
      .strictObject({
        percent: integer(0, 100).meta({
          description: 'Share of stable traffic copied to the canary; its answers are dropped.',
          default: DEFAULT_MIRROR_PERCENT,
        }),
      })
      .meta({ description: 'Copy a share of stable traffic to the canary; copies never delay or fail the real request.' })
      .optional(),
    abortScaleDownDelay: duration('The canary stays up this long after an abort.', { defaultMs: DEFAULT_ABORT_SCALE_DOWN_DELAY_MS }).optional(),
    analysis: z
      .strictObject({
        templates: z
          .array(z.string().min(1))
          .min(1)
          .max(20)
          .meta({ description: "Names of templates under the app's analysis:." })
          .register(fieldHints, { expected: 'a list of template names', hint: 'write templates: [error-rate]' }),
        startingStep: integer(0, MAX_CANARY_STEPS).meta({ description: 'Start once the rollout reaches this step (0: the first).', default: 0 }).optional(),
      })
      .meta({ description: 'Background analysis from a step until the end of the rollout; failed: rollback, inconclusive: pause.' })
      .optional(),
    progressDeadline: progressDeadline(),
  })
  .meta({ description: 'Send a growing share of traffic to the new revision, step by step, with pauses and manual gates.' });

const strategySchema = z
  .strictObject({ rolling: rollingSchema.optional(), blueGreen: blueGreenSchema.optional(), canary: canarySchema.optional() })
  .meta({ description: 'How a new revision replaces the old one: one of rolling (the default), blueGreen or canary.' });

export const HOOK_HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
const HOOK_URL_PATTERN = /^(https?:\/\/|\$\{[A-Za-z_][A-Za-z0-9_]*\})\S*$/;
const HOOK_EXAMPLE = 'write - command: [./smoke.sh, "${PREVIEW_URL}"]  or  - http: { url: "http://127.0.0.1:9000/deployed" }';

const hookHttpSchema = z
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
    headers: z
      .record(
        z.string().regex(HEADER_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid header name` }),
        z.string().regex(HEADER_VALUE_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid header value (printable ASCII, no line breaks)` }),
      )
      .meta({ description: 'Request headers; ${VAR}s are replaced in values.' })
      .optional(),
    body: z
      .string()
      .meta({ description: 'The request body; ${VAR}s are replaced. Default: a JSON summary of the rollout (none for GET and HEAD).' })
      .optional(),
  })
  .meta({ description: 'Call a URL; any 2xx answer passes.' });

const hookSchema = z
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

const hooksSchema = z
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

const HAPROXY_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

const haproxyRouterSchema = z
  .strictObject({
    mode: z
      .enum(['managed', 'external'])
      .meta({
        description:
          'managed: cutover writes the config and runs HAProxy itself (master-worker, master socket); external: cutover only talks to a running HAProxy.',
        default: DEFAULT_HAPROXY_MODE,
      })
      .register(fieldHints, { expected: 'managed or external', hint: 'write mode: managed or mode: external' })
      .optional(),
    socket: z
      .string()
      .min(1)
      .meta({ description: "External mode: the runtime API socket of HAProxy (a stats socket with level admin), relative to the config file's directory." })
      .register(fieldHints, { expected: 'a socket path', hint: 'e.g. socket: /run/haproxy/admin.sock' })
      .optional(),
    backend: z
      .string()
      .regex(HAPROXY_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid HAProxy backend name` })
      .meta({ description: 'The backend cutover manages for the app (default cutover_APP); its revision backends are BACKEND_r0..r2.' })
      .register(fieldHints, { hint: 'letters, digits, _ . : and -, e.g. backend: be_web' })
      .optional(),
    servers: integer(1, MAX_HAPROXY_SERVERS)
      .meta({
        description: 'Managed mode: server slots per backend (the most instances of an app at once, draining ones included).',
        default: DEFAULT_HAPROXY_SERVERS,
      })
      .optional(),
    binary: z.string().min(1).meta({ description: 'Managed mode: the haproxy program.', default: DEFAULT_HAPROXY_BINARY }).optional(),
  })
  .superRefine((haproxy, ctx) => {
    if (haproxy.mode === 'external' && haproxy.socket === undefined) {
      ctx.addIssue(
        issue(
          'external mode needs socket: the runtime API of the running HAProxy',
          'add socket: /run/haproxy/admin.sock (a stats socket with level admin)',
          haproxy,
        ),
      );
    }
    if (haproxy.mode !== 'external' && haproxy.socket !== undefined) {
      ctx.addIssue({
        ...issue('socket is for external mode; a managed HAProxy gets its sockets in the data dir', 'remove socket, or write mode: external', haproxy.socket),
        path: ['socket'],
      });
    }
  })
  .meta({ description: 'Drive HAProxy through its runtime API.' });

/** A DNS-1123 label: Kubernetes namespaces and Service names. */
const K8S_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS-1123 subdomain: names of most Kubernetes objects (HTTPRoute, ReplicaSet). */
const K8S_SUBDOMAIN_PATTERN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function kubernetesName(pattern: RegExp, kind: string, example: string) {
  return z
    .string()
    .regex(pattern, { error: (iss) => `${describeValue(iss.input)} is not a valid Kubernetes ${kind} name` })
    .register(fieldHints, {
      expected: `a ${kind} name`,
      hint: `lowercase letters, digits and dashes, starting and ending with a letter or digit, e.g. ${example}`,
    });
}

const kubernetesRouterSchema = z
  .strictObject({
    service: kubernetesName(K8S_LABEL_PATTERN, 'Service', 'service: web')
      .meta({ description: 'The Service that carries the traffic; blue-green switches its selector to the new revision. Default: the app name.' })
      .optional(),
    httpRoute: kubernetesName(K8S_SUBDOMAIN_PATTERN, 'HTTPRoute', 'httpRoute: web')
      .meta({
        description:
          'A Gateway API HTTPRoute whose backendRefs weights and header matches cutover sets for canary. Without it a canary weight is approximated by the replica ratio.',
      })
      .optional(),
  })
  .meta({
    description: 'Route by Kubernetes objects: a Service selector (blue-green) and a Gateway API HTTPRoute (canary). Needs runtime: { kubernetes: … }.',
  });

const routerSchema = z
  .strictObject({
    builtin: z.strictObject({}).meta({ description: "cutover's own proxy (the default)." }).optional(),
    haproxy: haproxyRouterSchema.optional(),
    kubernetes: kubernetesRouterSchema.optional(),
  })
  .refine((router) => Object.keys(router).length === 1, {
    error: 'router names exactly one of builtin, haproxy and kubernetes',
    params: { hint: 'write router: { builtin: {} } or router: { haproxy: { mode: managed } }' },
  })
  .meta({ description: 'The load balancer that carries the traffic: builtin (the default), haproxy or kubernetes.' })
  .register(fieldHints, { expected: 'builtin, haproxy or kubernetes', hint: 'write router: { builtin: {} } or router: { haproxy: { mode: managed } }' });

const kubernetesRuntimeSchema = z
  .strictObject({
    context: z
      .string()
      .min(1)
      .meta({ description: 'The kubeconfig context to use (KUBECONFIG is honoured). Default: the current context.' })
      .register(fieldHints, { expected: 'a kubeconfig context name', hint: 'e.g. context: prod' })
      .optional(),
    namespace: kubernetesName(K8S_LABEL_PATTERN, 'namespace', 'namespace: shop')
      .meta({ description: "The namespace of the app's objects. Default: the context's namespace, else default." })
      .optional(),
    image: z
      .string()
      .min(1)
      .regex(/^\S+$/, { error: (iss) => `${describeValue(iss.input)} is not an image reference (it has white space)` })
      .meta({ description: 'The container image of a new revision.', examples: ['registry.example/web:1.4.2'] })
      .register(fieldHints, { expected: 'an image reference', hint: 'e.g. image: registry.example/web:1.4.2' }),
    port: integer(MIN_PORT, MAX_PORT)
      .meta({ description: 'The container port the app listens on; the Service and the readiness probe use it.' })
      .register(fieldHints, { expected: 'a port number', hint: 'e.g. port: 8080' }),
    podTemplate: z
      .string()
      .min(1)
      .meta({
        description:
          "A YAML file with a full pod template (env, resources, probes, volumes), relative to the config file's directory. cutover sets the image, the labels and, when the template has none, the readiness probe.",
      })
      .register(fieldHints, { expected: 'a file path', hint: 'e.g. podTemplate: ./k8s/web-pod.yaml' })
      .optional(),
  })
  .meta({ description: 'Run revisions as ReplicaSets on a Kubernetes cluster.' });

const runtimeSchema = z
  .strictObject({
    local: z.strictObject({}).meta({ description: 'Processes on this machine (the default).' }).optional(),
    kubernetes: kubernetesRuntimeSchema.optional(),
  })
  .refine((runtime) => Object.keys(runtime).length === 1, {
    error: 'runtime names exactly one of local and kubernetes',
    params: { hint: 'write runtime: { local: {} } or runtime: { kubernetes: { image: …, port: 8080 } }' },
  })
  .meta({ description: 'Where instances run: local processes (the default) or a Kubernetes cluster.' })
  .register(fieldHints, { expected: 'local or kubernetes', hint: 'write runtime: { local: {} } or runtime: { kubernetes: { image: …, port: 8080 } }' });

const outlierDetectionSchema = z
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

const longLivedSchema = z
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

const appNameSchema = z
  .string()
  .regex(APP_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid app name` })
  .register(fieldHints, { hint: 'app names are 1 to 63 lowercase letters, digits and dashes, starting with a letter, e.g. web or api-v2' });

export const appSchema = z
  .strictObject({
    // Required for local apps (checkConfig says so); a kubernetes app runs its image, behind its Service.
    listen: listenSchema.optional(),
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
  })
  .meta({ description: 'One service cutover keeps running.' });

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
  })
  .meta({ description: 'Limits of the built-in proxy, for every app. Read by cutover up; a change needs a restart of the daemon.' });

export const configSchema = z
  .strictObject({
    proxy: proxySchema.optional(),
    router: routerSchema.optional(),
    metrics: z
      .strictObject({
        listen: z
          .union([listenSchema, z.literal(false)])
          .meta({ description: `Where cutover serves Prometheus /metrics; false: nowhere. Default ${DEFAULT_METRICS_LISTEN}.` })
          .register(fieldHints, { expected: 'host:port or false', hint: `write listen: ${DEFAULT_METRICS_LISTEN}` })
          .optional(),
        token: metricsTokenSchema(fieldHints),
      })
      .meta({ description: 'Prometheus metrics of cutover and its proxy.' })
      .optional(),
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
export type RawApp = z.output<typeof appSchema>;
export type RawProxy = z.output<typeof proxySchema>;
