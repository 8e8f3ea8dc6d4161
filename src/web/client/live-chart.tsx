import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { LiveMetrics } from './api.js';

/** One tick of one app, kept for the chart. */
export interface Tick {
  atSeconds: number;
  revisions: LiveMetrics['apps'][number]['revisions'];
}

/** Ticks kept per app: two minutes at one a second. */
export const MAX_TICKS = 120;

const METRICS = [
  { key: 'requestsPerSecond', title: 'requests / s' },
  { key: 'errorsPerSecond', title: 'errors (5xx) / s' },
  { key: 'p99Ms', title: 'p99 latency (ms)' },
] as const;

const COLORS = ['#0b7285', '#c2255c', '#e67700', '#2b8a3e', '#5f3dc4'];

/** Live charts of rps, errors and p99 per revision, fed by the metrics ticks of the event stream. */
export function LiveCharts({ ticks }: { ticks: readonly Tick[] }) {
  const revisions = [...new Set(ticks.flatMap((t) => t.revisions.map((r) => r.revision)))].sort((a, b) => b - a);
  return (
    <div class="charts">
      {METRICS.map((metric) => (
        <Chart key={`${metric.key}:${revisions.join(',')}`} title={metric.title} metric={metric.key} revisions={revisions} ticks={ticks} />
      ))}
    </div>
  );
}

function Chart({ title, metric, revisions, ticks }: { title: string; metric: (typeof METRICS)[number]['key']; revisions: number[]; ticks: readonly Tick[] }) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => [
    ticks.map((t) => t.atSeconds),
    ...revisions.map((revision) => ticks.map((t) => t.revisions.find((r) => r.revision === revision)?.[metric] ?? null)),
  ];
  useEffect(() => {
    if (!host.current) return;
    chart.current = new uPlot(
      {
        title,
        width: 340,
        height: 160,
        scales: { x: { time: true } },
        legend: { show: true },
        series: [{}, ...revisions.map((revision, i) => ({ label: `revision ${revision}`, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false }))],
        axes: [{}, { size: 50 }],
      },
      data(),
      host.current,
    );
    return () => chart.current?.destroy();
    // The chart is made again when the revisions change (its key), and fed new data below.
  }, []);
  useEffect(() => chart.current?.setData(data()), [ticks]);
  return <div class="chart" data-metric={metric} ref={host} />;
}
