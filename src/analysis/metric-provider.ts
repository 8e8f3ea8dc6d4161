import { execFile } from 'node:child_process';
import type { AnalysisTemplateSpec } from '../model/spec.js';
import { filterEnv } from '../runtime/local/local-runtime.js';
import type { Measurement } from './judge.js';
import { countAbove, histogramQuantile, type MeasurementHistory, type RevisionWindow } from './measurement-history.js';

/** What a provider is asked to measure: the canary (new) revision, beside stable, over a window. */
export interface MeasureContext {
  app: string;
  revision: number;
  stableRevision: number | null;
  template: AnalysisTemplateSpec;
  /** Wall-clock window end is now; its length is the template's interval. */
  windowMs: number;
  signal: AbortSignal;
}

/** Where analysis values come from. A provider never throws: a failure is a measurement with `error`. */
export interface MetricProvider {
  measure(context: MeasureContext): Promise<Measurement>;
}

const PROVIDER_TIMEOUT_MS = 10_000;

/** `{{app}}` and `{{revision}}` replaced. */
export function expandPlaceholders(text: string, context: Pick<MeasureContext, 'app' | 'revision'>): string {
  return text.replaceAll('{{app}}', context.app).replaceAll('{{revision}}', String(context.revision));
}

/**
 * The proxy's own counts. successRate and errorRate count app 5xx and proxy-generated 5xx
 * (an upstream that failed) as errors; latencies come from the histogram; requestRate is per
 * second. With `baseline`, stable's counts over the same window come along.
 */
export class BuiltinProvider implements MetricProvider {
  constructor(
    private readonly history: MeasurementHistory,
    private readonly nowMs: () => number,
  ) {}

  async measure(context: MeasureContext): Promise<Measurement> {
    const { template, app, revision, stableRevision } = context;
    const metric = template.metric ?? 'successRate';
    const now = this.nowMs();
    const canary = this.history.window(app, revision, now - context.windowMs);
    const stable = template.baseline && stableRevision !== null ? this.history.window(app, stableRevision, now - context.windowMs) : null;
    const subject = `revision ${revision} ${describeMetric(metric)}`;
    const value = metricValue(metric, canary);
    let baseline: Measurement['baseline'] = null;
    if (stable && template.baseline) {
      const stableValue = metricValue(metric, stable);
      const isLatency = metric.startsWith('latency');
      const bound = isLatency && stableValue !== null ? stableValue * template.baseline.maxRatio : 0;
      baseline = {
        value: stableValue,
        sampleSize: stable.requests,
        counts: isLatency
          ? {
              canaryBad: countAbove(bound, canary.latencyBuckets),
              canaryTotal: canary.requests,
              stableBad: countAbove(bound, stable.latencyBuckets),
              stableTotal: stable.requests,
            }
          : { canaryBad: errorsOf(canary), canaryTotal: canary.requests, stableBad: errorsOf(stable), stableTotal: stable.requests },
      };
    }
    return { value, sampleSize: canary.requests, baseline, error: null, subject };
  }
}

function errorsOf(w: RevisionWindow): number {
  return w.appStatus5xx + w.proxyStatus5xx;
}

function metricValue(metric: NonNullable<AnalysisTemplateSpec['metric']>, w: RevisionWindow): number | null {
  switch (metric) {
    case 'successRate':
      return w.requests === 0 ? null : 1 - errorsOf(w) / w.requests;
    case 'errorRate':
      return w.requests === 0 ? null : errorsOf(w) / w.requests;
    case 'latencyP50':
      return histogramQuantile(0.5, w.latencyBuckets);
    case 'latencyP95':
      return histogramQuantile(0.95, w.latencyBuckets);
    case 'latencyP99':
      return histogramQuantile(0.99, w.latencyBuckets);
    case 'requestRate':
      return w.windowMs <= 0 ? null : w.requests / (w.windowMs / 1000);
  }
}

function describeMetric(metric: NonNullable<AnalysisTemplateSpec['metric']>): string {
  return {
    successRate: 'success rate',
    errorRate: 'error rate',
    latencyP50: 'p50 latency (s)',
    latencyP95: 'p95 latency (s)',
    latencyP99: 'p99 latency (s)',
    requestRate: 'request rate (/s)',
  }[metric];
}

/** A PromQL instant query; a scalar or exactly one series. No series: no value (inconclusive). */
export class PrometheusProvider implements MetricProvider {
  async measure(context: MeasureContext): Promise<Measurement> {
    const query = expandPlaceholders(context.template.query ?? '', context);
    const subject = 'prometheus query';
    try {
      const url = new URL('/api/v1/query', context.template.address!);
      url.searchParams.set('query', query);
      const response = await fetch(url, { signal: AbortSignal.any([context.signal, AbortSignal.timeout(PROVIDER_TIMEOUT_MS)]) });
      const body = (await response.json()) as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
      if (body.status !== 'success') return failed(subject, `Prometheus answered ${response.status}: ${body.error ?? 'no error given'}`);
      const { resultType, result } = body.data ?? {};
      if (resultType === 'scalar') return { value: Number((result as [number, string])[1]), sampleSize: null, baseline: null, error: null, subject };
      if (resultType === 'vector' && Array.isArray(result)) {
        if (result.length === 0) return { value: null, sampleSize: 0, baseline: null, error: null, subject: `${subject} (no series)` };
        if (result.length > 1) return failed(subject, `the query returned ${result.length} series; expected one (aggregate it, e.g. with sum(...))`);
        return { value: Number((result[0] as { value: [number, string] }).value[1]), sampleSize: null, baseline: null, error: null, subject };
      }
      return failed(subject, `the query returned a ${resultType ?? 'missing'} result; expected a scalar or one series`);
    } catch (error) {
      return failed(subject, describeError(error, context.template.address ?? ''));
    }
  }
}

/**
 * A command (argv, run without a shell). Without a condition its exit code is the value (0
 * passes); with one, stdout must be a JSON number.
 */
export class CommandProvider implements MetricProvider {
  measure(context: MeasureContext): Promise<Measurement> {
    const [file, ...args] = (context.template.command ?? []).map((part) => expandPlaceholders(part, context));
    const subject = `command ${context.template.command?.join(' ') ?? ''}`;
    const hasCondition = context.template.successCondition !== null || context.template.failureCondition !== null;
    return new Promise((resolve) => {
      execFile(
        file!,
        args,
        {
          env: { ...filterEnv(process.env), CUTOVER_APP: context.app, CUTOVER_REVISION: String(context.revision) },
          timeout: PROVIDER_TIMEOUT_MS,
          signal: context.signal,
          maxBuffer: 1 << 20,
        },
        (error, stdout) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          if (!hasCondition) {
            if (code === null) return resolve(failed(subject, error?.message ?? 'did not run'));
            return resolve({ value: code, sampleSize: null, baseline: null, error: null, subject: `${subject} exit code` });
          }
          if (error) return resolve(failed(subject, error.message.split('\n')[0] ?? 'failed'));
          const value = Number(JSON.parse(stdout.trim() || 'null'));
          if (!Number.isFinite(value)) return resolve(failed(subject, `stdout is not a JSON number: ${JSON.stringify(stdout.slice(0, 80))}`));
          resolve({ value, sampleSize: null, baseline: null, error: null, subject });
        },
      );
    }).catch((error: unknown) => failed(subject, (error as Error).message)) as Promise<Measurement>;
  }
}

/** An HTTP GET answering JSON; `jsonPath` says where the number is. */
export class HttpProvider implements MetricProvider {
  async measure(context: MeasureContext): Promise<Measurement> {
    const url = expandPlaceholders(context.template.url ?? '', context);
    const subject = `GET ${context.template.url ?? ''}`;
    try {
      const response = await fetch(url, { signal: AbortSignal.any([context.signal, AbortSignal.timeout(PROVIDER_TIMEOUT_MS)]) });
      if (!response.ok) return failed(subject, `answered ${response.status}`);
      const value = Number(readPath(await response.json(), context.template.jsonPath ?? ''));
      if (!Number.isFinite(value)) return failed(subject, `no number at ${context.template.jsonPath || 'the top'} of the answer`);
      return { value, sampleSize: null, baseline: null, error: null, subject };
    } catch (error) {
      return failed(subject, describeError(error, url));
    }
  }
}

/** `data.items[0].value` in a parsed JSON value; undefined when absent. */
export function readPath(value: unknown, path: string): unknown {
  const parts = path.split(/[.[\]]/).filter((p) => p !== '' && p !== '$');
  let node = value;
  for (const part of parts) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function failed(subject: string, error: string): Measurement {
  return { value: null, sampleSize: null, baseline: null, error, subject };
}

function describeError(error: unknown, where: string): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${where} unreachable (${cause.code})`;
  return cause?.message ? `${where}: ${(error as Error).message} (${cause.message})` : (error as Error).message;
}
