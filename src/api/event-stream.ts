import type http from 'node:http';
import { onEventStored } from '../controller/event-channel.js';
import type { LiveMetrics } from '../protocol/live-metrics.js';
import type { Store } from '../store/store.js';
import type { EventRecord } from '../model/records.js';

/** A metrics tick every second; it doubles as the keep-alive of the stream. */
export const METRICS_TICK_MS = 1_000;
/** Stored events replayed at most, after a reconnect with `Last-Event-ID`. */
const MAX_REPLAY = 1_000;

export interface EventStreamOptions {
  store: Store;
  metrics: (app: string | undefined) => LiveMetrics;
  /** Only this app's events and metrics. */
  app: string | undefined;
  /** Replay stored events after this id first (`Last-Event-ID`, or `?after=`); none when undefined. */
  afterId: number | undefined;
  /** The event as it may leave the daemon (secret values masked). */
  maskEvent?: (event: EventRecord) => EventRecord;
}

/**
 * `GET /v1/events` with `Accept: text/event-stream`: Server-Sent Events.
 * - `event: change`, `id: <event id>`, `data: <EventRecord>` for every state change stored
 *   (rollout phases and steps, traffic, instances, gates, hooks, analysis), as it is stored;
 * - `event: metrics`, `data: <LiveMetrics>` once a second: per-revision rps, errors and p99.
 * A client that reconnects with `Last-Event-ID` (EventSource does) gets the changes it missed.
 * Returns a function that ends the stream.
 */
export function streamEvents(req: http.IncomingMessage, res: http.ServerResponse, options: EventStreamOptions): () => void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let lastSentId = options.afterId ?? 0;
  const sendChange = (event: EventRecord): void => {
    if (event.id <= lastSentId || (options.app !== undefined && event.app !== options.app)) return;
    lastSentId = event.id;
    res.write(`id: ${event.id}\nevent: change\ndata: ${JSON.stringify(options.maskEvent?.(event) ?? event)}\n\n`);
  };
  const sendMetrics = (): void => {
    res.write(`event: metrics\ndata: ${JSON.stringify(options.metrics(options.app))}\n\n`);
  };
  // Subscribe before replaying: an event stored meanwhile is sent once (ids only grow).
  const pending: EventRecord[] = [];
  let isReplaying = true;
  const unsubscribe = onEventStored((event) => (isReplaying ? pending.push(event) : sendChange(event)));
  res.write(`retry: 2000\n\n`);
  if (options.afterId !== undefined) {
    for (const event of options.store.listEvents({ app: options.app, afterId: options.afterId, limit: MAX_REPLAY })) sendChange(event);
  }
  isReplaying = false;
  for (const event of pending) sendChange(event);
  sendMetrics();
  const timer = setInterval(sendMetrics, METRICS_TICK_MS);
  let isEnded = false;
  const end = (): void => {
    if (isEnded) return;
    isEnded = true;
    clearInterval(timer);
    unsubscribe();
    res.end();
  };
  req.on('close', end);
  res.on('error', end);
  return end;
}

/** Whether the client asked for the event stream rather than the JSON page of events. */
export function acceptsEventStream(req: http.IncomingMessage): boolean {
  return (req.headers.accept ?? '').split(',').some((type) => type.trim().split(';')[0] === 'text/event-stream');
}

/** `Last-Event-ID` (sent by a reconnecting EventSource), else `?after=`. */
export function streamStartId(req: http.IncomingMessage, query: URLSearchParams): number | undefined {
  const header = req.headers['last-event-id'];
  const text = (Array.isArray(header) ? header[0] : header) ?? query.get('after') ?? undefined;
  const id = text === undefined ? NaN : Number(text);
  return Number.isInteger(id) && id >= 0 ? id : undefined;
}
