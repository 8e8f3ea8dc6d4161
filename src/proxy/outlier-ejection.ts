/**
 * Passive outlier ejection, the decision part (no I/O, no clock): an endpoint whose tries fail
 * `consecutiveFailures` times in a row (a 5xx answer, or a connection that could not be made,
 * was reset or timed out) leaves its revision's pool for `ejectForMs`. Never more than half of
 * a revision's endpoints are out at once, so the last one is never ejected.
 *
 * The proxy keeps the state on each `UpstreamTarget` and asks `judgeOutcome` after every try;
 * the timer that brings an endpoint back lives in `routing-table.ts`.
 */

/** What the plan asks for; `consecutiveFailures: 0` turns ejection off. */
export interface OutlierPolicy {
  readonly consecutiveFailures: number;
  readonly ejectForMs: number;
}

/** The outcome of one try, as outlier detection sees it. */
export const TRY_OUTCOMES = ['success', 'failure', 'ignored'] as const;
export type TryOutcome = (typeof TRY_OUTCOMES)[number];

/** What is known when one try of one endpoint ends. */
export interface OutcomeContext {
  /** Failures in a row before this try. */
  readonly failuresInRow: number;
  readonly isEjected: boolean;
  /** Endpoints in the endpoint's revision group (the current routing table), itself included. */
  readonly groupSize: number;
  /** Endpoints of that group ejected right now (not counting this one unless it is). */
  readonly ejectedInGroup: number;
}

export interface OutcomeJudgement {
  readonly failuresInRow: number;
  readonly shouldEject: boolean;
}

/** The most endpoints of a group of `groupSize` that may be ejected at once: half, rounded down. */
export function maxEjectable(groupSize: number): number {
  return Math.floor(groupSize / 2);
}

/**
 * Judges one try: a success resets the count, a failure adds one, an ignored outcome (the
 * client went away, the request was refused as bad) changes nothing. The endpoint is to be
 * ejected when the count reaches the policy's threshold, it is not out already, and one more
 * ejection keeps the group within `maxEjectable`. A failure that reaches the threshold while
 * the cap is full keeps counting: the next failure asks again.
 *
 * @example
 * judgeOutcome({ consecutiveFailures: 5, ejectForMs: 30_000 }, 'failure',
 *   { failuresInRow: 4, isEjected: false, groupSize: 3, ejectedInGroup: 0 });
 * // { failuresInRow: 5, shouldEject: true }
 */
export function judgeOutcome(policy: OutlierPolicy | undefined, outcome: TryOutcome, context: OutcomeContext): OutcomeJudgement {
  if (policy === undefined || policy.consecutiveFailures <= 0 || outcome === 'ignored') {
    return { failuresInRow: context.failuresInRow, shouldEject: false };
  }
  if (outcome === 'success') return { failuresInRow: 0, shouldEject: false };
  const failuresInRow = context.failuresInRow + 1;
  const shouldEject = !context.isEjected && failuresInRow >= policy.consecutiveFailures && context.ejectedInGroup + 1 <= maxEjectable(context.groupSize);
  return { failuresInRow, shouldEject };
}

/** A status the upstream answered counts as a failure when it is a 5xx. */
export function outcomeOfStatus(statusCode: number): TryOutcome {
  return statusCode >= 500 ? 'failure' : 'success';
}
