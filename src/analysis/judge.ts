/**
 * Judging analysis measurements: pure functions, no I/O, no clock. A provider measures a value
 * (and, with a baseline, stable's value over the same window); `judgeMeasurement` says whether
 * one measurement passed, `judgeRun` whether a run of them is over and how it ended.
 */
import type { AnalysisTemplateSpec } from '../model/app-spec.js';

/** What one measurement, or a whole run, came to. */
export const MEASUREMENT_RESULTS = ['successful', 'failed', 'inconclusive', 'error'] as const;
export type MeasurementResult = (typeof MEASUREMENT_RESULTS)[number];
/** A run is `running` until its measurements decide it; `error` never ends a run by itself. */
export const RUN_PHASES = ['running', 'successful', 'failed', 'inconclusive'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

/**
 * One-sided z for "the canary is worse": 2.33 ≈ 99 %. Strict on purpose: a run measures
 * several times, and each test is another chance of a false alarm.
 */
export const SIGNIFICANCE_Z = 2.33;

export const CONDITION_OPERATORS = ['>=', '<=', '==', '!=', '>', '<'] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export interface Condition {
  operator: ConditionOperator;
  threshold: number;
  text: string;
}

/** `">= 0.99"` → `{ operator: '>=', threshold: 0.99 }`. Throws on anything else (the schema checked it). */
export function parseCondition(text: string): Condition {
  const match = /^\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$/.exec(text);
  const threshold = match ? Number(match[2]) : NaN;
  if (!match || !Number.isFinite(threshold)) throw new Error(`not a condition: ${JSON.stringify(text)}`);
  return { operator: match[1] as ConditionOperator, threshold, text: `${match[1]} ${match[2]}` };
}

/** True when `value` satisfies the condition. NaN satisfies nothing. */
export function holds(condition: Condition, value: number): boolean {
  const t = condition.threshold;
  switch (condition.operator) {
    case '>=':
      return value >= t;
    case '<=':
      return value <= t;
    case '>':
      return value > t;
    case '<':
      return value < t;
    case '==':
      return value === t;
    case '!=':
      return !Number.isNaN(value) && value !== t;
  }
}

/** The condition that holds exactly when `condition` does not (for the sentence of a failure). */
export function negate(condition: Condition): ConditionOperator {
  const opposite: Record<ConditionOperator, ConditionOperator> = { '>=': '<', '<=': '>', '>': '<=', '<': '>=', '==': '!=', '!=': '==' };
  return opposite[condition.operator];
}

/** Counts for a baseline test: "bad" requests (errors, or slower than the bound) out of all, per side. */
export interface BaselineCounts {
  canaryBad: number;
  canaryTotal: number;
  stableBad: number;
  stableTotal: number;
}

/** What a provider measured once. */
export interface Measurement {
  /** Null when the provider failed (`error` says why) or there was nothing to measure. */
  value: number | null;
  /** Requests (or samples) behind the value, when the provider knows. */
  sampleSize: number | null;
  /** builtin with `baseline`: stable over the same window. */
  baseline: { value: number | null; sampleSize: number; counts: BaselineCounts } | null;
  /** The provider could not measure (unreachable, bad answer). */
  error: string | null;
  /** What was measured, for people: "canary success rate", "prometheus query". */
  subject: string;
}

export interface MeasurementVerdict {
  result: MeasurementResult;
  /** A sentence a person understands. */
  sentence: string;
}

/**
 * Judges one measurement: an error is `error`; too few requests (`minRequests`, builtin and
 * baseline) is `inconclusive`; otherwise the conditions decide, and with a baseline the canary
 * also fails when it is worse than `maxRatio` × stable and that difference is significant,
 * and is inconclusive when it looks worse but the samples cannot tell.
 */
export function judgeMeasurement(
  template: Pick<AnalysisTemplateSpec, 'provider' | 'successCondition' | 'failureCondition' | 'minRequests' | 'baseline' | 'metric'>,
  m: Measurement,
): MeasurementVerdict {
  if (m.error !== null) return { result: 'error', sentence: `${m.subject}: could not measure: ${m.error}` };
  const over = m.sampleSize === null ? '' : ` over ${formatCount(m.sampleSize)} request${m.sampleSize === 1 ? '' : 's'}`;
  const stable = m.baseline ? `; stable ${formatValue(m.baseline.value)} over ${formatCount(m.baseline.sampleSize)}` : '';
  const described = `${m.subject} ${formatValue(m.value)}${over}`;
  const isCounted = template.provider === 'builtin' && template.metric !== 'requestRate';
  if (isCounted && m.sampleSize !== null && m.sampleSize < template.minRequests) {
    return { result: 'inconclusive', sentence: `${described}: fewer than minRequests ${formatCount(template.minRequests)}, too few to judge${stable}` };
  }
  if (m.value === null || Number.isNaN(m.value)) return { result: 'inconclusive', sentence: `${m.subject}: no value${over}` };
  const value = m.value;
  if (template.failureCondition !== null) {
    const failure = parseCondition(template.failureCondition);
    if (holds(failure, value)) return { result: 'failed', sentence: `${described} ${failure.text} (failureCondition)${stable}` };
  }
  if (template.successCondition !== null) {
    const success = parseCondition(template.successCondition);
    if (!holds(success, value)) return { result: 'failed', sentence: `${described} ${negate(success)} ${success.threshold}${stable}` };
  }
  if (template.baseline !== null && m.baseline !== null) {
    const comparison = compareWithBaseline(m.baseline.counts, template.baseline.maxRatio, template.minRequests, isRateMetric(template.metric));
    const sentence = `${described}${stable}: ${comparison.sentence}`;
    return { result: comparison.result, sentence };
  }
  const bound = [
    template.successCondition === null ? null : parseCondition(template.successCondition).text,
    template.failureCondition === null ? null : `not ${parseCondition(template.failureCondition).text}`,
  ]
    .filter(Boolean)
    .join(' and ');
  return { result: 'successful', sentence: `${described}${bound ? `, ${bound}` : ''}${stable}` };
}

function isRateMetric(metric: AnalysisTemplateSpec['metric']): boolean {
  return metric === 'successRate' || metric === 'errorRate';
}

/**
 * The baseline test. Rates: the canary fails when its bad share exceeds `maxRatio` × stable's
 * and a one-sided Wald test of p_canary > maxRatio · p_stable is significant. Latency: the counts
 * are requests slower than `maxRatio` × stable's quantile, and the test is p_canary > p_stable.
 * Either side under `minRequests`: inconclusive. Worse but not significant: inconclusive.
 */
export function compareWithBaseline(
  counts: BaselineCounts,
  maxRatio: number,
  minRequests: number,
  isRate: boolean,
): { result: 'successful' | 'failed' | 'inconclusive'; sentence: string; z: number } {
  const { canaryBad, canaryTotal, stableBad, stableTotal } = counts;
  const min = Math.max(1, minRequests);
  if (canaryTotal < min || stableTotal < min) {
    return {
      result: 'inconclusive',
      z: 0,
      sentence: `too few requests to compare with stable (canary ${formatCount(canaryTotal)}, stable ${formatCount(stableTotal)}, need ${formatCount(min)} each)`,
    };
  }
  const ratio = isRate ? maxRatio : 1;
  const pc = canaryBad / canaryTotal;
  const ps = stableBad / stableTotal;
  const z = proportionZ(canaryBad, canaryTotal, stableBad, stableTotal, ratio);
  const what = isRate
    ? `error rate ${formatValue(pc)} vs stable ${formatValue(ps)}`
    : `share slower than ${maxRatio}× stable ${formatValue(pc)} vs stable ${formatValue(ps)}`;
  if (pc <= ratio * ps) return { result: 'successful', z, sentence: `${what}: within ${maxRatio}× stable` };
  if (z >= SIGNIFICANCE_Z)
    return { result: 'failed', z, sentence: `${what}: worse than ${maxRatio}× stable, significant (z ${z.toFixed(2)} ≥ ${SIGNIFICANCE_Z})` };
  return {
    result: 'inconclusive',
    z,
    sentence: `${what}: looks worse than ${maxRatio}× stable but is not significant for these samples (z ${z.toFixed(2)} < ${SIGNIFICANCE_Z})`,
  };
}

/**
 * z of the one-sided test p1 > r·p2 (Wald, each side's own variance). Infinite when the
 * difference is positive and both variances are 0 (e.g. every canary request failed, none of stable's).
 */
export function proportionZ(bad1: number, n1: number, bad2: number, n2: number, ratio = 1): number {
  const p1 = bad1 / n1;
  const p2 = bad2 / n2;
  const difference = p1 - ratio * p2;
  // Half a bad request of slack on each side keeps a variance above 0 for small counts.
  const v1 = Math.max(p1 * (1 - p1), (0.5 / n1) * (1 - 0.5 / n1)) / n1;
  const v2 = (ratio * ratio * Math.max(p2 * (1 - p2), (0.5 / n2) * (1 - 0.5 / n2))) / n2;
  const se = Math.sqrt(v1 + v2);
  return difference / se;
}

export interface RunLimits {
  /** Measurements per run; null: until stopped (background analysis). */
  count: number | null;
  failureLimit: number;
  consecutiveErrorLimit: number;
  inconclusiveLimit: number;
}

/** Where a run stands after its measurements so far, and why, in words. */
export function judgeRun(limits: RunLimits, results: readonly MeasurementResult[]): { phase: RunPhase; reason: string } {
  const failed = results.filter((r) => r === 'failed').length;
  const inconclusive = results.filter((r) => r === 'inconclusive').length;
  let errorsInARow = 0;
  for (let i = results.length - 1; i >= 0 && results[i] === 'error'; i--) errorsInARow++;
  if (failed > limits.failureLimit)
    return { phase: 'failed', reason: `${failed} failed measurement${failed === 1 ? '' : 's'}, more than failureLimit ${limits.failureLimit}` };
  if (errorsInARow > limits.consecutiveErrorLimit)
    return { phase: 'inconclusive', reason: `${errorsInARow} errors in a row, more than consecutiveErrorLimit ${limits.consecutiveErrorLimit}` };
  if (inconclusive > limits.inconclusiveLimit)
    return {
      phase: 'inconclusive',
      reason: `${inconclusive} inconclusive measurement${inconclusive === 1 ? '' : 's'}, more than inconclusiveLimit ${limits.inconclusiveLimit}`,
    };
  if (limits.count === null || results.length < limits.count)
    return { phase: 'running', reason: `${results.length}${limits.count === null ? '' : `/${limits.count}`} measurements` };
  const successful = results.filter((r) => r === 'successful').length;
  if (successful === 0) return { phase: 'inconclusive', reason: `no successful measurement in ${results.length}` };
  return {
    phase: 'successful',
    reason: `${successful}/${results.length} measurements successful${failed ? `, ${failed} failed (failureLimit ${limits.failureLimit})` : ''}`,
  };
}

/**
 * `3702` → `3,702`. Grouped by hand: `toLocaleString` loads ICU's locale data, about 5 MB of
 * the daemon controller's memory from its first deploy report on (issue 25).
 */
export function formatCount(n: number): string {
  const digits = String(Math.abs(Math.round(n)));
  const grouped = digits.replace(/\B(?=(\d{3})+$)/g, ',');
  return Math.round(n) < 0 ? `-${grouped}` : grouped;
}

/** Up to 4 significant digits, no exponent for ordinary values. */
export function formatValue(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '-';
  if (value === 0 || Math.abs(value) >= 1000) return String(Math.round(value * 1000) / 1000);
  return String(Number(value.toPrecision(4)));
}
