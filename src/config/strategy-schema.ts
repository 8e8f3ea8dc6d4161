import { z } from 'zod';
import {
  DEFAULT_MAX_SURGE,
  DEFAULT_MAX_UNAVAILABLE,
  DEFAULT_MIN_READY_MS,
  DEFAULT_PROGRESS_DEADLINE_MS,
  DEFAULT_ABORT_SCALE_DOWN_DELAY_MS,
  DEFAULT_CANARY_REPLICAS,
  DEFAULT_MIRROR_PERCENT,
  DEFAULT_PREVIEW_HEADER,
  DEFAULT_SCALE_DOWN_DELAY_MS,
  DEFAULT_STICKY_TTL_MS,
  MAX_CANARY_STEPS,
  MAX_REPLICAS,
  MIN_REPLICAS,
} from './defaults.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { duration, integer, countOrPercent, PERCENT_PATTERN } from './field-schemas.js';
import { listenSchema } from './listen-schema.js';
import { analysisUseSchema } from './analysis-schema.js';
import { COOKIE_NAME_PATTERN, headerMatchSchema, routeSchema } from './request-match-schema.js';

export const rollingSchema = z
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

const replicasSchema = (description: string) => integer(MIN_REPLICAS, MAX_REPLICAS).meta({ description });

const progressDeadline = () =>
  duration('A rollout that makes no progress for this long (waiting at a gate aside) rolls back.', {
    defaultMs: DEFAULT_PROGRESS_DEADLINE_MS,
    minMs: 1,
  }).optional();

export const blueGreenSchema = z
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
export const canaryStepSchema = z
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

export const canarySchema = z
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

export const strategySchema = z
  .strictObject({ rolling: rollingSchema.optional(), blueGreen: blueGreenSchema.optional(), canary: canarySchema.optional() })
  .meta({ description: 'How a new revision replaces the old one: one of rolling (the default), blueGreen or canary.' });
