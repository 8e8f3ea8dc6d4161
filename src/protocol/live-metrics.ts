/** How far back a live tick looks: two proxy samples (taken every 500ms) smooth the rate a little. */
export const LIVE_WINDOW_MS = 2_000;

/** What one revision of an app did over the last `LIVE_WINDOW_MS`. */
export interface RevisionRate {
  revision: number;
  /** Requests per second answered by this revision (or by the proxy on its behalf). */
  requestsPerSecond: number;
  /** 5xx per second: answered by the app, or by the proxy because the upstream failed. */
  errorsPerSecond: number;
  /** Errors over requests, 0..1; 0 without requests. */
  errorRate: number;
  /** The p99 latency in milliseconds, or null without requests in the window. */
  p99Ms: number | null;
}

/** One metrics tick: the `metrics` message of `GET /v1/events` (SSE) and the answer of `GET /v1/live`. */
export interface LiveMetrics {
  /** ISO time of the tick. */
  at: string;
  windowMs: number;
  apps: { app: string; revisions: RevisionRate[] }[];
}
