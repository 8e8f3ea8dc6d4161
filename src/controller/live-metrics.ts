import { type MeasurementHistory } from '../analysis/measurement-history.js';
import { histogramQuantile } from '../model/measurements.js';
import type { Store } from '../store/store.js';
import { LIVE_WINDOW_MS, type LiveMetrics, type RevisionRate } from '../protocol/live-metrics.js';
import { isoTime } from '../util/iso-time.js';

/**
 * Per-revision rates from the proxy's counts the controller gathers (the same history builtin
 * analysis and the deploy report read). A revision is listed while it has traffic or served
 * requests in the window.
 *
 * @example
 * liveMetrics(controller.history, store, performance.now()).apps[0]?.revisions[0]?.requestsPerSecond;
 */
export function liveMetrics(history: MeasurementHistory, store: Store, nowMs: number, onlyApp?: string): LiveMetrics {
  const apps = store.listApps().filter((a) => onlyApp === undefined || a.name === onlyApp);
  return {
    at: isoTime(),
    windowMs: LIVE_WINDOW_MS,
    apps: apps.map(({ name }) => {
      const traffic = store.traffic(name);
      const revisions = new Set<number>(traffic.map((t) => t.revision));
      for (const total of history.currentTotals()) if (total.app === name) revisions.add(total.revision);
      const rates: RevisionRate[] = [];
      for (const revision of [...revisions].sort((a, b) => b - a)) {
        const w = history.window(name, revision, nowMs - LIVE_WINDOW_MS, nowMs);
        const seconds = w.windowMs / 1000;
        const errors = w.appStatus5xx + w.proxyStatus5xx;
        const isTrafficked = traffic.some((t) => t.revision === revision && t.weight > 0);
        if (w.requests === 0 && !isTrafficked) continue;
        const p99 = histogramQuantile(0.99, w.latencyBuckets);
        rates.push({
          revision,
          requestsPerSecond: seconds > 0 ? round(w.requests / seconds) : 0,
          errorsPerSecond: seconds > 0 ? round(errors / seconds) : 0,
          errorRate: w.requests > 0 ? round(errors / w.requests, 4) : 0,
          p99Ms: p99 === null ? null : round(p99 * 1000),
        });
      }
      return { app: name, revisions: rates };
    }),
  };
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
