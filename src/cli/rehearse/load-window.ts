import { percentile, type LoadClient, type LoadFailure } from '../../loadgen/load-client.js';
import type { FailedRequests, LoadFigures } from './rehearsal-result.js';

/** Where a load stood at one moment, to tell what happened after it. */
export interface LoadMark {
  requests: number;
  failed: number;
  failuresKept: number;
  latencies: number;
}

export const LOAD_START: LoadMark = { requests: 0, failed: 0, failuresKept: 0, latencies: 0 };

export function markLoad(load: LoadClient): LoadMark {
  const now = load.snapshot();
  return { requests: now.requests, failed: now.failed, failuresKept: now.failures.length, latencies: now.latenciesMs.length };
}

/** What the load's clients saw since `mark`. */
export function loadFiguresSince(load: LoadClient, mark: LoadMark): LoadFigures {
  const now = load.snapshot();
  const latencies = now.latenciesMs.slice(mark.latencies);
  return {
    requests: now.requests - mark.requests,
    failed: now.failed - mark.failed,
    p50Ms: latencies.length ? round(percentile(latencies, 50)) : null,
    p99Ms: latencies.length ? round(percentile(latencies, 99)) : null,
    failures: groupFailures(now.failures.slice(mark.failuresKept)),
  };
}

/** "POST /orders 502" fifty times is one line with a count, most frequent first. */
function groupFailures(failures: readonly LoadFailure[]): FailedRequests[] {
  const groups = new Map<string, FailedRequests>();
  for (const failure of failures) {
    const key = JSON.stringify([failure.method, failure.path, failure.status, failure.error]);
    const group = groups.get(key) ?? { method: failure.method, path: failure.path, status: failure.status, error: failure.error, count: 0 };
    group.count += 1;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** A failed request group in words: `POST /orders: 502 (3×)` or `GET /: no answer: other side closed`. */
export function describeFailedRequests(group: FailedRequests): string {
  const what = group.status === null ? `no answer: ${group.error ?? 'unknown error'}` : `answered ${group.status}`;
  return `${group.method} ${group.path}: ${what}${group.count > 1 ? ` (${group.count}×)` : ''}`;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
