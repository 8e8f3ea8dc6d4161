import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import type { AnalysisRunner } from '../analysis/analysis-runner.js';
import type { MeasurementHistory } from '../analysis/measurement-history.js';
import { LATENCY_BUCKETS_SECONDS, METER_COUNTERS } from '../model/measurements.js';
import type { Store } from '../store/store.js';

/**
 * How often the event loop's delay is sampled for `cutover_controller_nodejs_eventloop_lag_*`:
 * prom-client's default, 10 ms, wakes an idle controller a hundred times a second.
 */
const EVENT_LOOP_SAMPLE_MS = 1_000;

export interface MetricsSources {
  history: MeasurementHistory;
  analyses: AnalysisRunner;
  store: Store;
}

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/** A metric computed at scrape time from cutover's own state (nothing is counted twice). */
function computed(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => Sample[]): Metric {
  return { name, help, type, get: () => ({ name, help, type, values: values(), aggregator: 'sum' }) } as unknown as Metric;
}

const CODE_CLASSES: [string, (typeof METER_COUNTERS)[number][]][] = [
  ['1xx', ['status1xx']],
  ['2xx', ['status2xx']],
  ['3xx', ['status3xx']],
  ['4xx', ['status4xx']],
  ['5xx', ['appStatus5xx', 'proxyStatus5xx']],
];

/**
 * The Prometheus registry of cutover: the proxy's counts (merged over workers by the
 * controller), rollouts, traffic weights, analysis runs and instances, under the names the
 * docs list (docs/analysis.md, Prometheus /metrics), plus the controller process's default metrics.
 */
export function createMetricsRegistry(sources: MetricsSources): Registry {
  const registry = new Registry();
  const { history, analyses, store } = sources;
  const byRevision = (): Map<string, { app: string; revision: number; counts: number[]; buckets: number[]; sum: number }> => {
    const merged = new Map<string, { app: string; revision: number; counts: number[]; buckets: number[]; sum: number }>();
    for (const m of history.currentTotals()) {
      const key = `${m.app}\u0000${m.revision}`;
      const entry = merged.get(key) ?? {
        app: m.app,
        revision: m.revision,
        counts: METER_COUNTERS.map(() => 0),
        buckets: [...LATENCY_BUCKETS_SECONDS, 0].map(() => 0),
        sum: 0,
      };
      m.counts.forEach((v, i) => (entry.counts[i] = (entry.counts[i] ?? 0) + v));
      m.latencyBuckets.forEach((v, i) => (entry.buckets[i] = (entry.buckets[i] ?? 0) + v));
      entry.sum += m.latencySumSeconds;
      merged.set(key, entry);
    }
    return merged;
  };
  const at = (name: (typeof METER_COUNTERS)[number]): number => METER_COUNTERS.indexOf(name);

  registry.registerMetric(
    computed('cutover_requests_total', 'Requests the proxy answered, by app, revision and status class (proxy-generated 5xx included in 5xx).', 'counter', () =>
      [...byRevision().values()].flatMap((r) =>
        CODE_CLASSES.map(([codeClass, names]) => ({
          labels: { app: r.app, revision: r.revision, code_class: codeClass },
          value: names.reduce((s, n) => s + (r.counts[at(n)] ?? 0), 0),
        })),
      ),
    ),
  );
  registry.registerMetric(
    computed('cutover_proxy_errors_total', 'Requests the proxy answered itself with a 5xx because the upstream failed or timed out.', 'counter', () =>
      [...byRevision().values()].map((r) => ({ labels: { app: r.app, revision: r.revision }, value: r.counts[at('proxyStatus5xx')] ?? 0 })),
    ),
  );
  registry.registerMetric(
    computed(
      'cutover_upstream_errors_total',
      'Failed tries at an upstream (retried or not), by kind: error (refused, reset, broken off) or timeout.',
      'counter',
      () =>
        [...byRevision().values()].flatMap((r) => [
          { labels: { app: r.app, revision: r.revision, kind: 'error' }, value: r.counts[at('upstreamErrors')] ?? 0 },
          { labels: { app: r.app, revision: r.revision, kind: 'timeout' }, value: r.counts[at('upstreamTimeouts')] ?? 0 },
        ]),
    ),
  );
  registry.registerMetric(
    computed(
      'cutover_outlier_ejections_total',
      'Times the proxy ejected an instance from its pool for failing too often in a row (summed over workers: each worker ejects on its own).',
      'counter',
      () => [...byRevision().values()].map((r) => ({ labels: { app: r.app, revision: r.revision }, value: r.counts[at('ejections')] ?? 0 })),
    ),
  );
  registry.registerMetric(
    computed('cutover_unrouted_requests_total', 'Requests answered 503 because no instance could take them.', 'counter', () =>
      [...history.currentUnrouted()].map(([app, value]) => ({ labels: { app }, value })),
    ),
  );
  registry.registerMetric(
    computed(
      'cutover_unknown_host_requests_total',
      'Requests on the shared listeners (the front door) for a host no app serves, answered 404 (plain) or 421 (TLS) by the proxy.',
      'counter',
      () => {
        const count = history.currentUnknownHost();
        return count === null ? [] : [{ labels: {}, value: count }];
      },
    ),
  );
  registry.registerMetric(
    computed('cutover_request_duration_seconds', 'Time from a request reaching the proxy to the end of its response.', 'histogram', () =>
      [...byRevision().values()].flatMap((r) => {
        let cumulative = 0;
        const labels = { app: r.app, revision: r.revision };
        const buckets = [...LATENCY_BUCKETS_SECONDS.map(String), '+Inf'].map((le, i) => {
          cumulative += r.buckets[i] ?? 0;
          return { metricName: 'cutover_request_duration_seconds_bucket', labels: { ...labels, le }, value: cumulative };
        });
        return [
          ...buckets,
          { metricName: 'cutover_request_duration_seconds_sum', labels, value: r.sum },
          { metricName: 'cutover_request_duration_seconds_count', labels, value: cumulative },
        ];
      }),
    ),
  );
  registry.registerMetric(
    computed('cutover_rollout_info', 'The latest rollout of each app: 1, with its strategy and phase as labels.', 'gauge', () =>
      store.listApps().flatMap(({ name }) => {
        const latest = store.listRollouts(name, 1)[0];
        return latest ? [{ labels: { app: name, strategy: latest.strategy, phase: latest.phase, rollout: latest.id }, value: 1 }] : [];
      }),
    ),
  );
  registry.registerMetric(
    computed('cutover_rollout_weight', 'Percent of weighted traffic each revision gets, as the proxy confirmed it.', 'gauge', () =>
      store.listApps().flatMap(({ name }) => store.traffic(name).map((t) => ({ labels: { app: name, revision: t.revision }, value: t.weight }))),
    ),
  );
  registry.registerMetric(
    computed('cutover_analysis_runs_total', 'Analysis runs that ended, by app, template and result (since the controller started).', 'counter', () =>
      analyses.counts().map((c) => ({ labels: { app: c.app, template: c.template, result: c.result }, value: c.count })),
    ),
  );
  registry.registerMetric(
    computed('cutover_instances', 'Instances by app, revision and state.', 'gauge', () => {
      const counts = new Map<string, Sample>();
      for (const i of store.listInstances()) {
        const key = `${i.app}\u0000${i.revision}\u0000${i.state}`;
        const sample = counts.get(key) ?? { labels: { app: i.app, revision: i.revision, state: i.state }, value: 0 };
        sample.value++;
        counts.set(key, sample);
      }
      return [...counts.values()];
    }),
  );
  collectDefaultMetrics({ register: registry, prefix: 'cutover_controller_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}
